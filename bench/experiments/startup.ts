/**
 * Bench experiment 5: start-up, from `pulumi up` to golden-ami's first EC2 call, and what of it
 * is golden-ami's own. A fresh stack per round of bench/programs/fanout with one InstanceImage
 * (no compression: nothing here waits on EC2). The probe lines of bench/support/time-scale-hook.js
 * (loaded into every Node process pulumi starts) give when the program's and the provider's
 * processes started and how long the first load of each module took; the emulator's call log
 * gives the first EC2 call.
 */
import * as fs from "fs";
import { Options } from "../lib/options";
import { BenchContext, benchStack, log, mustSucceed } from "../lib/runs";
import { median, round } from "../lib/stats";

const STARTUP_REGION = "us-west-1";

interface Probe {
    pid: number;
    role: "program" | "provider" | "other";
    event: "start" | "load" | "memory";
    at?: number;
    hookAt?: number;
    module?: string;
    startedAt?: number;
    ms?: number;
}

export interface StartupRound {
    /** `pulumi up` started → golden-ami's first EC2 call, real seconds. */
    toFirstCallS: number;
    /** `pulumi up` → the program's Node process started (CLI, engine, language host). */
    cliToProgramS: number;
    /** Program process start → provider process start (Node start-up, @pulumi/pulumi, compiling and running the program, registration). */
    programToProviderS: number;
    /** Provider process start → first EC2 call (the provider host, golden-ami's runtime, check, create up to its first call). */
    providerToFirstCallS: number;
    /** First loads, ms, by process and module. */
    programLoadsMs: Record<string, number>;
    providerLoadsMs: Record<string, number>;
}

export interface StartupResult {
    rounds: StartupRound[];
    medians: Omit<StartupRound, "programLoadsMs" | "providerLoadsMs"> & { programLoadsMs: Record<string, number>; providerLoadsMs: Record<string, number> };
    /** golden-ami's own share (median): its modules in the program, its runtime in the provider, and the provider's time from the runtime loaded to the first call. */
    ownS: number;
}

function medianOf(rounds: StartupRound[], pick: (r: StartupRound) => number): number {
    return round(median(rounds.map(pick)), 2);
}

function medianLoads(maps: Array<Record<string, number>>): Record<string, number> {
    const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))];
    return Object.fromEntries(keys.map((k) => [k, Math.round(median(maps.map((m) => m[k] ?? 0)))]));
}

export async function runStartup(ctx: BenchContext, opts: Options): Promise<StartupResult> {
    const { emulator } = ctx;
    await emulator.configure({ timing: { imagePending: 1, copyPending: 1, snapshotSeconds: null }, throttle: null });
    const rounds: StartupRound[] = [];
    const n = Math.min(opts.repeat, 3);
    for (let i = 0; i < n; i++) {
        const instanceId = await emulator.launchInstance(STARTUP_REGION);
        const stack = await benchStack(ctx, "fanout", `startup-${i}`, STARTUP_REGION, { instanceIds: JSON.stringify([instanceId]), copyRegions: "[]" }, 1);
        await emulator.resetCalls();
        fs.rmSync(ctx.probeLog, { force: true });
        log(`start-up: pulumi up of one InstanceImage (${i + 1}/${n})`);
        const spawnedAt = Date.now();
        mustSucceed("start-up pulumi up", await stack.up());
        const { calls } = await emulator.calls();
        const first = calls.length ? Math.min(...calls.map((c) => c.at)) : NaN;
        const probes: Probe[] = fs.readFileSync(ctx.probeLog, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Probe);
        const startOf = (role: string) => Math.min(...probes.filter((p) => p.role === role && p.event === "start").map((p) => p.at!));
        const loads = (role: string) => {
            const out: Record<string, number> = {};
            for (const p of probes.filter((x) => x.role === role && x.event === "load")) out[p.module!] = Math.max(out[p.module!] ?? 0, p.ms!);
            return out;
        };
        const program = startOf("program");
        const provider = startOf("provider");
        rounds.push({
            toFirstCallS: round((first - spawnedAt) / 1000, 2),
            cliToProgramS: round((program - spawnedAt) / 1000, 2),
            programToProviderS: round((provider - program) / 1000, 2),
            providerToFirstCallS: round((first - provider) / 1000, 2),
            programLoadsMs: loads("program"),
            providerLoadsMs: loads("provider"),
        });
        log(`  first EC2 call ${rounds[i].toFirstCallS} s after pulumi up (CLI → program ${rounds[i].cliToProgramS} s, program → provider ${rounds[i].programToProviderS} s, provider → first call ${rounds[i].providerToFirstCallS} s)`);
    }
    const medians = {
        toFirstCallS: medianOf(rounds, (r) => r.toFirstCallS),
        cliToProgramS: medianOf(rounds, (r) => r.cliToProgramS),
        programToProviderS: medianOf(rounds, (r) => r.programToProviderS),
        providerToFirstCallS: medianOf(rounds, (r) => r.providerToFirstCallS),
        programLoadsMs: medianLoads(rounds.map((r) => r.programLoadsMs)),
        providerLoadsMs: medianLoads(rounds.map((r) => r.providerLoadsMs)),
    };
    const ownS = round(((medians.programLoadsMs["golden-ami modules"] ?? 0) + (medians.providerLoadsMs["golden-ami runtime"] ?? 0)) / 1000, 2);
    return { rounds, medians, ownS };
}
