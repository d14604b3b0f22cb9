/**
 * Bench experiment 2: fan-out with the real pulumi engine: (a) 1 image + 5 regional copies,
 * (b) 5 images in one region. Wall time (first CreateImage to the last image seen available,
 * from the recording proxy) against the critical path of the emulated durations.
 */
import * as fs from "fs";
import { EmulatorCall, EmulatorImageEvent } from "../../scripts/harness/emulator";
import { Options } from "../lib/options";
import { RecordingProxy } from "../lib/proxy";
import { BenchContext, benchStack, isDescribe, log, timed } from "../lib/runs";
import { round } from "../lib/stats";

const FANOUT_SOURCE = "us-east-1";
const FANOUT_COPY_REGIONS = ["eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"];
const FANOUT_B_REGION = "us-west-2";
export const FANOUT_IMAGE_S = 60;
export const FANOUT_COPY_S = 60;

export interface FanoutImage {
    imageId: string;
    kind: string;
    region: string;
    createdAtS: number;
    availableAtS: number;
    seenAvailableAtS: number;
    latencyS: number;
}

export interface FanoutCase {
    name: string;
    wallS: number;
    /** Longest delay between an image becoming available and a response showing it available. */
    slowestDetectionS: number;
    /** (a): from the source image seen available to the first CopyImage (engine + program + provider). */
    handOffS?: number;
    criticalPathS: number;
    ratio: number;
    pulumiUpRealS: number;
    images: FanoutImage[];
    /** Describe calls per region over the whole `pulumi up`, and within the wait window. */
    describeByRegion: Record<string, Record<string, number>>;
    describeInWaitWindowByRegion: Record<string, Record<string, number>>;
}

/**
 * Each image the emulator made: when it was created, became available and was first seen
 * available by a response through the recording proxy, in emulated seconds from `start`
 * (epoch ms), and the detection latency (seen − available).
 */
export function detectionRows(images: Record<string, EmulatorImageEvent>, proxy: RecordingProxy, start: number, F: number, what: string): FanoutImage[] {
    return Object.entries(images).map(([imageId, e]) => {
        const seen = proxy.seenAvailableAt(imageId);
        if (seen === undefined) throw new Error(`${what}: no response ever reported ${imageId} available`);
        const rel = (t: number) => round(((t - start) * F) / 1000);
        return {
            imageId,
            kind: e.kind,
            region: e.region,
            createdAtS: rel(e.createdAt),
            availableAtS: rel(e.availableAt),
            seenAvailableAtS: rel(seen),
            latencyS: round(((seen - e.availableAt) * F) / 1000),
        };
    });
}

async function fanoutCase(
    ctx: BenchContext,
    opts: Options,
    name: string,
    stackName: string,
    region: string,
    instances: number,
    copyRegions: string[],
    criticalPathS: number,
): Promise<FanoutCase> {
    const F = opts.scale;
    const { emulator, proxy } = ctx;
    await emulator.configure({ timing: { imagePending: FANOUT_IMAGE_S / F, copyPending: FANOUT_COPY_S / F, snapshotSeconds: null } });
    const instanceIds = await Promise.all(Array.from({ length: instances }, () => emulator.launchInstance(region)));
    const stack = await benchStack(ctx, "fanout", stackName, region, {
        instanceIds: JSON.stringify(instanceIds),
        copyRegions: JSON.stringify(copyRegions),
        copiedImages: "1",
    }, F);
    await emulator.resetCalls();
    proxy.reset();
    log(`fan-out ${name}: pulumi up`);
    fs.rmSync(ctx.hookLog, { force: true });
    const realMs = await timed(() => stack.up(), `fan-out ${name}: pulumi up`);
    const compressedWaits = fs.existsSync(ctx.hookLog) ? fs.readFileSync(ctx.hookLog, "utf8").split("\n").filter((l) => l.includes("ami-")).length : 0;
    if (F !== 1 && compressedWaits < instances + copyRegions.length) {
        throw new Error(`fan-out ${name}: the provider's image waits were not time-compressed (${compressedWaits} seen by bench/support/time-scale-hook.js)`);
    }
    const { calls, images } = await emulator.calls();
    const start = calls.find((c) => c.action === "CreateImage")!.at;
    const rows = detectionRows(images, proxy, start, F, `fan-out ${name}`);
    const end = Math.max(...rows.map((r) => r.seenAvailableAtS));
    const describes = calls.filter(isDescribe);
    const windowEnd = start + (end * 1000) / F;
    const byRegion = (cs: EmulatorCall[]) => {
        const out: Record<string, Record<string, number>> = {};
        for (const c of cs) (out[c.region] ??= {})[c.action] = (out[c.region]?.[c.action] ?? 0) + 1;
        return out;
    };
    const source = rows.find((r) => r.kind === "create");
    const firstCopy = rows.filter((r) => r.kind === "copy").sort((x, y) => x.createdAtS - y.createdAtS)[0];
    const result: FanoutCase = {
        name,
        wallS: round(end),
        slowestDetectionS: round(Math.max(...rows.map((r) => r.latencyS))),
        handOffS: source && firstCopy ? round(firstCopy.createdAtS - source.seenAvailableAtS) : undefined,
        criticalPathS: criticalPathS,
        ratio: round(end / criticalPathS, 3),
        pulumiUpRealS: round(realMs / 1000),
        images: rows.sort((a, b) => a.createdAtS - b.createdAtS),
        describeByRegion: byRegion(describes),
        describeInWaitWindowByRegion: byRegion(describes.filter((c) => c.at >= start && c.at <= windowEnd)),
    };
    for (const r of result.images) {
        log(`    ${r.kind} ${r.imageId} ${r.region}: created ${r.createdAtS} s, available ${r.availableAtS} s, seen ${r.seenAvailableAtS} s (+${r.latencyS} s)`);
    }
    log(`  wall ${result.wallS} s emulated for a critical path of ${criticalPathS} s (${result.ratio}×); pulumi up took ${result.pulumiUpRealS} s real`);
    return result;
}

/** Both fan-out cases, one after the other. */
export async function runFanout(ctx: BenchContext, opts: Options): Promise<FanoutCase[]> {
    return [
        await fanoutCase(ctx, opts, "(a) 1 image + 5 regional copies", "fanout-a", FANOUT_SOURCE, 1, FANOUT_COPY_REGIONS, FANOUT_IMAGE_S + FANOUT_COPY_S),
        await fanoutCase(ctx, opts, "(b) 5 images in one region", "fanout-b", FANOUT_B_REGION, 5, [], FANOUT_IMAGE_S),
    ];
}
