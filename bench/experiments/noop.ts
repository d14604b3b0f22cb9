/**
 * Bench experiment 3: no-op `pulumi preview` / `pulumi up` of an unchanged 30-image stack
 * (10 InstanceImages, each copied to 2 more regions), against an empty program: EC2 calls
 * (mutating ones must be 0) and wall time.
 */
import { EmulatorCall } from "../../scripts/harness/emulator";
import { PulumiStack } from "../../scripts/harness/pulumi-stack";
import { Options } from "../lib/options";
import { BenchContext, benchStack, isReadOnly, log, timed } from "../lib/runs";
import { countBy, median, round } from "../lib/stats";

const NOOP_REGION = "us-east-1";
const NOOP_COPY_REGIONS = ["eu-west-1", "ap-southeast-2"];
export const NOOP_IMAGES = 10;

export interface NoopRun {
    command: "preview" | "up";
    ec2Calls: number;
    mutatingCalls: number;
    byAction: Record<string, number>;
    wallS: number[];
    wallMedianS: number;
    emptyWallS: number[];
    emptyWallMedianS: number;
}

export interface NoopResult {
    images: number;
    regions: string[];
    createRealS: number;
    runs: NoopRun[];
}

/** `pulumi preview`, then `pulumi up`, of `stack` and of `baseline`, `rounds` times each: EC2 calls of `stack` per round, walls. */
async function noopRuns(ctx: BenchContext, stack: PulumiStack, baseline: PulumiStack, rounds: number, what: string): Promise<NoopRun[]> {
    const runs: NoopRun[] = [];
    for (const command of ["preview", "up"] as const) {
        const run = (s: PulumiStack) => (command === "preview" ? s.preview() : s.up());
        const wall: number[] = [];
        const baseWall: number[] = [];
        let calls: EmulatorCall[] = [];
        for (let i = 0; i < rounds; i++) {
            log(`no-op: pulumi ${command} of ${what} (${i + 1}/${rounds})`);
            await ctx.emulator.resetCalls();
            wall.push((await timed(() => run(stack), `no-op pulumi ${command}`)) / 1000);
            calls = calls.concat((await ctx.emulator.calls()).calls);
            baseWall.push((await timed(() => run(baseline), `baseline program pulumi ${command}`)) / 1000);
        }
        const perRound = (n: number) => round(n / rounds, 1);
        const byAction = countBy(calls, (c) => c.action);
        for (const k of Object.keys(byAction)) byAction[k] = perRound(byAction[k]);
        runs.push({
            command,
            ec2Calls: perRound(calls.length),
            mutatingCalls: perRound(calls.filter((c) => !isReadOnly(c.action)).length),
            byAction,
            wallS: wall.map((w) => round(w)),
            wallMedianS: round(median(wall)),
            emptyWallS: baseWall.map((w) => round(w)),
            emptyWallMedianS: round(median(baseWall)),
        });
    }
    return runs;
}

export async function runNoop(ctx: BenchContext, opts: Options): Promise<NoopResult> {
    const { emulator } = ctx;
    // Short emulated durations, no compression needed: the stack only has to exist.
    await emulator.configure({ timing: { imagePending: 1, copyPending: 1, snapshotSeconds: null } });
    const instanceIds = await Promise.all(Array.from({ length: NOOP_IMAGES }, () => emulator.launchInstance(NOOP_REGION)));
    const stack = await benchStack(ctx, "fanout", "noop", NOOP_REGION, {
        instanceIds: JSON.stringify(instanceIds),
        copyRegions: JSON.stringify(NOOP_COPY_REGIONS),
        copiedImages: String(NOOP_IMAGES),
    }, 1);
    const empty = await benchStack(ctx, "empty", "empty", NOOP_REGION, {}, 1);
    log(`no-op: creating ${NOOP_IMAGES} images × ${1 + NOOP_COPY_REGIONS.length} regions (pulumi up)`);
    await emulator.resetCalls();
    const createMs = await timed(() => stack.up(), "no-op stack: first pulumi up");
    await timed(() => empty.up(), "empty program: first pulumi up");
    const { images } = await emulator.calls();
    const made = Object.keys(images).length;
    if (made !== NOOP_IMAGES * (1 + NOOP_COPY_REGIONS.length)) throw new Error(`no-op stack made ${made} images`);

    const runs = await noopRuns(ctx, stack, empty, Math.min(opts.repeat, 3), "the unchanged stack and of the empty program");
    return { images: made, regions: [NOOP_REGION, ...NOOP_COPY_REGIONS], createRealS: round(createMs / 1000), runs };
}

/** No-op runs of the 20×8 fleet stack (left by experiments/fleet.ts) against as many plain resources. */
export interface NoopAtScale {
    resources: number;
    runs: NoopRun[];
}

export async function runNoopAtScale(ctx: BenchContext, stack: PulumiStack, resources: number): Promise<NoopAtScale> {
    const plain = await benchStack(ctx, "plain", "plain", NOOP_REGION, { count: String(resources) }, 1);
    log(`no-op at scale: creating ${resources} plain resources (pulumi up)`);
    await timed(() => plain.up(["--parallel", "512"]), "plain program: first pulumi up");
    // One round each: four runs of 180 resources already take over a minute, and the bench must stay under 15 minutes.
    const runs = await noopRuns(ctx, stack, plain, 1, `the unchanged ${resources}-resource fleet stack and of ${resources} plain resources`);
    return { resources, runs };
}
