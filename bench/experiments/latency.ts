/**
 * Bench experiment 1: detection latency and Describe calls per image, for waits of 10 s, 60 s
 * and 600 s, golden-ami vs fixed 5 s polling vs the AWS SDK v3 waiter, all in this process
 * against the emulator (plus an uncompressed golden-ami control beside the 600 s cell).
 */
import { CreateImageCommand } from "@aws-sdk/client-ec2";
import { Options } from "../lib/options";
import { BenchContext, isDescribe, log } from "../lib/runs";
import { countBy, mean, percentile, round } from "../lib/stats";
import { STRATEGIES, StrategyName, waitWith } from "../lib/strategies";

/** Regions the latency cells spread their concurrent measurements over (one measurement per region). */
const REGION_POOL = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "sa-east-1", "af-south-1",
    "me-south-1", "ap-east-1",
];

interface Job {
    /** Row label: the strategy, or "golden-ami F=1" for the uncompressed control. */
    label: string;
    strategy: StrategyName;
    /** Compression of this job: its delays are divided by it, its times multiplied by it. */
    scale: number;
    /**
     * Real ms to wait before CreateImage. Repeats started at the same instant would all share
     * one sub-second phase (golden-ami's wake-ups snap to a 500 ms grid; a StartTime that falls
     * on a whole second is read as possibly truncated), so repeat i of n starts at (i + 0.5)/n
     * of a second: the repeats sample the phase evenly.
     */
    offsetMs: number;
}

interface Measurement {
    label: string;
    region: string;
    imageId: string;
    latencyS: number;
    describeCalls: number;
    byAction: Record<string, number>;
}

export interface LatencyCell {
    waitS: number;
    strategy: string;
    scale: number;
    runs: number;
    latencyP50S: number;
    latencyP95S: number;
    latenciesS: number[];
    describeCallsMean: number;
    describeImagesMean: number;
    describeSnapshotsMean: number;
    otherDescribeMean: number;
}

/** Label of the uncompressed control row (golden-ami at F = 1 on the same real durations as the 600 s cell). */
export const CONTROL_LABEL = "golden-ami F=1";

export async function runLatency(ctx: BenchContext, opts: Options): Promise<LatencyCell[]> {
    const { emulator } = ctx;
    const F = opts.scale;
    const instances = new Map<string, string>();
    const instanceIn = async (region: string) => {
        if (!instances.has(region)) instances.set(region, await emulator.launchInstance(region));
        return instances.get(region)!;
    };
    const cells: LatencyCell[] = [];
    for (const waitS of opts.waits) {
        const realS = waitS / F;
        await emulator.configure({ timing: { imagePending: realS, copyPending: null, snapshotSeconds: null } });
        const jobs: Job[] = [];
        const offsetMs = (i: number) => Math.round(((i + 0.5) / opts.repeat) * 1000);
        for (let i = 0; i < opts.repeat; i++) for (const strategy of STRATEGIES) jobs.push({ label: strategy, strategy, scale: F, offsetMs: offsetMs(i) });
        // The control: golden-ami without compression on images of the same real duration as
        // this cell's (600 s / F), run side by side with it. It shows what compression itself does.
        const control = waitS === 600 && F !== 1;
        if (control) for (let i = 0; i < opts.repeat; i++) jobs.push({ label: CONTROL_LABEL, strategy: "golden-ami", scale: 1, offsetMs: offsetMs(i) });
        const all: Measurement[] = [];
        // Waves: every measurement of a wave has a region to itself, so the emulator's call log
        // (region from the SigV4 scope) attributes every call exactly.
        for (let from = 0; from < jobs.length; from += REGION_POOL.length) {
            const wave = jobs.slice(from, from + REGION_POOL.length).map((job, k) => ({ ...job, region: REGION_POOL[k] }));
            await Promise.all(wave.map((j) => instanceIn(j.region)));
            log(`wait ${waitS} s (${realS} s real): ${wave.length} measurements side by side, one region each, about ${Math.round(realS * 1.3 + 2)} s`);
            await emulator.resetCalls();
            const returned = new Map<string, number>();
            const ids = new Map<string, string>();
            await Promise.all(
                wave.map(async (job, k) => {
                    const client = emulator.ec2(job.region);
                    await new Promise((resolve) => setTimeout(resolve, job.offsetMs));
                    const made = await client.send(
                        new CreateImageCommand({ InstanceId: instances.get(job.region)!, Name: `bench-${waitS}s-${job.strategy}-${from + k}-${Date.now()}`, NoReboot: true }),
                    );
                    const imageId = made.ImageId!;
                    ids.set(job.region, imageId);
                    await waitWith(job.strategy, client, job.region, imageId, job.scale, realS * 3 + 60);
                    returned.set(job.region, Date.now());
                }),
            );
            const { calls, images } = await emulator.calls();
            for (const job of wave) {
                const imageId = ids.get(job.region)!;
                const describes = calls.filter((c) => c.region === job.region && isDescribe(c));
                all.push({
                    label: job.label,
                    region: job.region,
                    imageId,
                    latencyS: ((returned.get(job.region)! - images[imageId].availableAt) * job.scale) / 1000,
                    describeCalls: describes.length,
                    byAction: countBy(describes, (c) => c.action),
                });
            }
        }
        const labels: Array<[string, number, number]> = STRATEGIES.map((s) => [s, F, waitS]);
        if (control) labels.push([CONTROL_LABEL, 1, realS]);
        for (const [label, scale, cellWaitS] of labels) {
            const ms = all.filter((m) => m.label === label);
            const lat = ms.map((m) => m.latencyS);
            const of = (action: string) => mean(ms.map((m) => m.byAction[action] ?? 0));
            const cell: LatencyCell = {
                waitS: cellWaitS,
                strategy: label,
                scale,
                runs: ms.length,
                latencyP50S: round(percentile(lat, 50)),
                latencyP95S: round(percentile(lat, 95)),
                latenciesS: lat.map((l) => round(l)),
                describeCallsMean: round(mean(ms.map((m) => m.describeCalls))),
                describeImagesMean: round(of("DescribeImages")),
                describeSnapshotsMean: round(of("DescribeSnapshots")),
                otherDescribeMean: round(mean(ms.map((m) => m.describeCalls - (m.byAction.DescribeImages ?? 0) - (m.byAction.DescribeSnapshots ?? 0)))),
            };
            cells.push(cell);
            log(`  ${label}: latency p50 ${cell.latencyP50S} s, p95 ${cell.latencyP95S} s, ${cell.describeCallsMean} Describe calls`);
        }
    }
    return cells;
}
