/**
 * What the bench's experiments share: the progress log, how emulator calls are classified,
 * and bench stacks run by the real pulumi engine against the emulator (through the recording
 * proxy, with the provider's waits time-compressed by bench/support/time-scale-hook.js).
 */
import * as path from "path";
import { Emulator, EmulatorCall } from "../../scripts/harness/emulator";
import { PulumiStack, REPO_ROOT, RunResult } from "../../scripts/harness/pulumi-stack";
import { RecordingProxy } from "./proxy";

export const log = (msg: string) => console.error(`[bench] ${msg}`);

export const isDescribe = (c: EmulatorCall) => c.action.startsWith("Describe");
export const isReadOnly = (action: string) => /^(Describe|Get|List)/.test(action);

/** What every experiment runs against: one emulator, the recording proxy in front of it, one backend. */
export interface BenchContext {
    emulator: Emulator;
    proxy: RecordingProxy;
    backendDir: string;
    /** File the time-scale hook appends one line to per wait it compressed. */
    hookLog: string;
    /** File the hook appends its JSON probe lines to (process start, module loads, provider memory). */
    probeLog: string;
}

export async function benchStack(ctx: BenchContext, program: string, stackName: string, region: string, config: Record<string, string>, scale: number): Promise<PulumiStack> {
    const env: Record<string, string> = {
        ...ctx.emulator.env(region),
        AWS_ENDPOINT_URL: ctx.proxy.endpoint,
        GA_BENCH_TIME_SCALE: String(1 / scale),
        GA_BENCH_HOOK_LOG: ctx.hookLog,
        GA_BENCH_PROBE_LOG: ctx.probeLog,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${path.join(REPO_ROOT, "bench", "support", "time-scale-hook.js")}`.trim(),
    };
    return PulumiStack.create({
        program: path.join(REPO_ROOT, "bench", "programs", program),
        stackName,
        backendDir: ctx.backendDir,
        env,
        config: { "aws:region": region, ...config },
    });
}

export function mustSucceed(what: string, result: RunResult): void {
    if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code})\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
}

export async function timed(run: () => Promise<RunResult>, what: string): Promise<number> {
    const started = Date.now();
    const result = await run();
    const ms = Date.now() - started;
    mustSucceed(what, result);
    return ms;
}
