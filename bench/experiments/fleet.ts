/**
 * Bench experiment 4: fleets with the real pulumi engine under EC2's copy limit and 10%
 * throttling: 1×1, 5×3 and 20×8 (images × copy regions; every image copied into every region).
 * Wall (first CreateImage → last image or copy seen available) against the schedule-optimal
 * time for the limit, EC2 calls per image and copy, throttled calls, refused copies
 * (ResourceLimitExceeded), failures, the most copies in flight per region (call log) and the
 * provider process's peak memory. The 20×8 stack then serves the no-op runs at scale
 * (experiments/noop.ts, `runNoopAtScale`).
 */
import * as fs from "fs";
import { EmulatorCall, peakCopiesInFlight } from "../../scripts/harness/emulator";
import { PulumiStack } from "../../scripts/harness/pulumi-stack";
import { Options } from "../lib/options";
import { BenchContext, benchStack, log } from "../lib/runs";
import { countBy, round } from "../lib/stats";

export const FLEET_SOURCE = "us-east-1";
export const FLEET_REGIONS = ["eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1", "us-west-2", "ca-central-1", "ap-south-1"];
export const FLEET_SHAPES: Array<[number, number]> = [[1, 1], [5, 3], [20, 8]];
/**
 * Ten minutes each, about what an 8 GiB image and its cross-region copy take on EC2: the
 * engine's real-time hand-offs and the SDK's throttling back-off then weigh against the
 * schedule what they weigh on EC2 (with one-minute copies they would weigh ten times more).
 */
export const FLEET_IMAGE_S = 600;
export const FLEET_COPY_S = 600;
/**
 * The copy limit of the fleet runs, in the emulator and in golden-ami (copySlotsPerRegion): 5
 * rather than EC2's 20, so that 20 images queue four deep per region (with 20 they would not
 * queue at all, and the limit would not be tested).
 */
export const FLEET_COPY_LIMIT = 5;
export const FLEET_THROTTLE = 0.1;
/** pulumi's default of 8 operations at once would bound the fleet, not EC2's copy limit. */
export const FLEET_PARALLEL = 512;

export interface FleetCase {
    name: string;
    images: number;
    regions: number;
    copies: number;
    wallS: number;
    /** The image, then ceil(copies per region / copies per round) rounds of copies. */
    optimalS: number;
    ratio: number;
    ec2Calls: number;
    callsPerImageAndCopy: number;
    callsByAction: Record<string, number>;
    throttledCalls: number;
    refusedCopies: number;
    failedResources: number;
    peakInFlightPerRegion: number;
    providerPeakMiB: number;
    pulumiUpRealS: number;
    /** Last CreateImage after the first; slowest detection; slowest source-seen → first-copy hand-off (emulated s). */
    imageStartSpreadS: number;
    slowestDetectionS: number;
    slowestHandOffS: number;
    /** The 20×8 stack stays for the no-op runs at scale. */
    stack?: PulumiStack;
}

/** Peak VmHWM (MiB) of the provider processes in a probe log. */
export function providerPeakMiB(probeLog: string): number {
    if (!fs.existsSync(probeLog)) return NaN;
    let peak = 0;
    for (const line of fs.readFileSync(probeLog, "utf8").split("\n")) {
        if (!line) continue;
        const e = JSON.parse(line) as { role: string; event: string; peakBytes?: number };
        if (e.role === "provider" && e.event === "memory") peak = Math.max(peak, e.peakBytes ?? 0);
    }
    return round(peak / 2 ** 20, 1);
}

async function fleetCase(ctx: BenchContext, opts: Options, images: number, regions: number): Promise<FleetCase> {
    // Its own factor (--fleet-scale, default 20): 600 s rounds, up to five in a row, in 30 s of real time each.
    const F = opts.fleetScale;
    const { emulator, proxy } = ctx;
    const name = `${images}×${regions}`;
    const copyRegions = FLEET_REGIONS.slice(0, regions);
    await emulator.configure({ timing: { imagePending: FLEET_IMAGE_S / F, copyPending: FLEET_COPY_S / F, snapshotSeconds: null }, throttle: null, copyLimit: FLEET_COPY_LIMIT });
    const instanceIds = await Promise.all(Array.from({ length: images }, () => emulator.launchInstance(FLEET_SOURCE)));
    const stack = await benchStack(ctx, "fanout", `fleet-${images}x${regions}`, FLEET_SOURCE, {
        instanceIds: JSON.stringify(instanceIds),
        copyRegions: JSON.stringify(copyRegions),
        copiedImages: String(images),
        "golden-ami:copySlotsPerRegion": String(FLEET_COPY_LIMIT),
    }, F);
    await emulator.resetCalls();
    proxy.reset();
    await emulator.configure({ throttle: { fraction: FLEET_THROTTLE, seed: 16 } });
    fs.rmSync(ctx.probeLog, { force: true });
    log(`fleet ${name}: pulumi up (${images} images, ${images * regions} copies; copy limit ${FLEET_COPY_LIMIT}, ${FLEET_THROTTLE * 100}% throttled)`);
    const started = Date.now();
    const result = await stack.up(["--parallel", String(FLEET_PARALLEL)]);
    const realMs = Date.now() - started;
    await emulator.configure({ throttle: null });
    const { calls, images: made } = await emulator.calls();
    const failedResources = result.code === 0 ? 0 : (/(\d+) errored/.exec(result.stdout)?.[1] ? Number(/(\d+) errored/.exec(result.stdout)![1]) : 1);
    if (result.code !== 0) log(`  fleet ${name}: pulumi up failed (exit ${result.code}):\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-2000)}`);
    const start = calls.find((c) => c.action === "CreateImage" && !c.throttled)?.at ?? started;
    let end = start;
    for (const id of Object.keys(made)) {
        const seen = proxy.seenAvailableAt(id);
        if (seen !== undefined) end = Math.max(end, seen);
    }
    const snapshotsPerImage = Math.max(1, ...Object.values(made).filter((e) => e.kind === "create").map((e) => Object.keys(e.snapshots ?? {}).length));
    const perRound = Math.max(1, Math.floor(FLEET_COPY_LIMIT / snapshotsPerImage));
    const optimalS = FLEET_IMAGE_S + Math.ceil(images / perRound) * FLEET_COPY_S;
    const wallS = ((end - start) * F) / 1000;
    const copies = images * regions;
    // Where the time went, emulated s: the spread of the images' CreateImage calls, the slowest
    // detection (available → a response showing it), the slowest hand-off (source seen → its first copy made).
    const rel = (t: number) => ((t - start) * F) / 1000;
    const creates = Object.values(made).filter((e) => e.kind === "create");
    const imageStartSpreadS = creates.length ? round(Math.max(...creates.map((e) => rel(e.createdAt)))) : 0;
    let slowestDetectionS = 0;
    let slowestHandOffS = 0;
    for (const [id, e] of Object.entries(made)) {
        const seen = proxy.seenAvailableAt(id);
        if (seen !== undefined) slowestDetectionS = Math.max(slowestDetectionS, ((seen - e.availableAt) * F) / 1000);
        if (process.env.GA_BENCH_FLEET_VERBOSE && seen !== undefined) log(`    ${e.kind} ${id} ${e.region}: created ${round(rel(e.createdAt))} s, available ${round(rel(e.availableAt))} s, seen ${round(rel(seen))} s`);
        if (e.kind === "create" && seen !== undefined) {
            const first = Object.values(made).filter((x) => x.kind === "copy" && x.sourceImageId === id).map((x) => x.createdAt);
            if (first.length) slowestHandOffS = Math.max(slowestHandOffS, ((Math.min(...first) - seen) * F) / 1000);
        }
    }
    const byAction = countBy(calls, (c: EmulatorCall) => c.action);
    const c: FleetCase = {
        name,
        images,
        regions,
        copies,
        wallS: round(wallS),
        optimalS,
        ratio: round(wallS / optimalS, 3),
        ec2Calls: calls.length,
        callsPerImageAndCopy: round(calls.length / (images + copies), 1),
        callsByAction: byAction,
        throttledCalls: calls.filter((x) => x.throttled).length,
        refusedCopies: calls.filter((x) => x.action === "CopyImage" && !x.throttled && x.status === 400).length,
        failedResources,
        peakInFlightPerRegion: Math.max(0, ...copyRegions.map((r) => peakCopiesInFlight(made, r))),
        providerPeakMiB: providerPeakMiB(ctx.probeLog),
        pulumiUpRealS: round(realMs / 1000),
        imageStartSpreadS,
        slowestDetectionS: round(slowestDetectionS),
        slowestHandOffS: round(slowestHandOffS),
        stack: images === 20 ? stack : undefined,
    };
    log(`  wall ${c.wallS} s for an optimum of ${optimalS} s (${c.ratio}×); ${c.ec2Calls} EC2 calls (${c.throttledCalls} throttled), ${c.refusedCopies} refused, peak ${c.peakInFlightPerRegion} in flight; images started over ${c.imageStartSpreadS} s, slowest detection ${c.slowestDetectionS} s, slowest hand-off ${c.slowestHandOffS} s; provider ${c.providerPeakMiB} MiB; pulumi up ${c.pulumiUpRealS} s real`);
    return c;
}

export async function runFleet(ctx: BenchContext, opts: Options): Promise<FleetCase[]> {
    const out: FleetCase[] = [];
    // GA_BENCH_FLEET_SHAPES="5x3,20x8" runs only those shapes (development).
    const only = process.env.GA_BENCH_FLEET_SHAPES?.split(",").map((x) => x.split("x").map(Number) as [number, number]);
    for (const [images, regions] of only ?? FLEET_SHAPES) out.push(await fleetCase(ctx, opts, images, regions));
    await ctx.emulator.configure({ copyLimit: null });
    return out;
}
