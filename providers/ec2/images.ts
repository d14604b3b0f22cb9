/**
 * Images and their snapshots: describe, wait until usable, tag, find by name, delete.
 * Shared by every resource that makes an image (InstanceImage, ImageCopy).
 */
import {
    CreateTagsCommand,
    DeleteSnapshotCommand,
    DeleteTagsCommand,
    DeregisterImageCommand,
    DescribeImagesCommand,
    DescribeSnapshotsCommand,
    Image,
    ModifyImageAttributeCommand,
    Snapshot,
    Tag,
} from "@aws-sdk/client-ec2";
import { ec2Client } from "./client";
import { explainAwsError, isNotFound } from "./errors";
import { Clock, currentClock, ProgressEstimator, Verdict, WaitDelays, waitUntil } from "./waiter";

/** Tags as a plain map. */
export type TagMap = Record<string, string>;

export function toTagList(tags: TagMap | undefined): Tag[] {
    return Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
}

export function fromTagList(tags: Tag[] | undefined): TagMap {
    const out: TagMap = {};
    for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
    return out;
}

/** Tag keys starting with this are golden-ami's own (see MARKER_TAGS in naming.ts). */
const MARKER_PREFIX = "golden-ami:";

/** The tags without golden-ami's marker tags: what the user sees and declares. */
export function withoutMarkerTags(tags: TagMap): TagMap {
    const out: TagMap = {};
    for (const [k, v] of Object.entries(tags)) if (!k.startsWith(MARKER_PREFIX)) out[k] = v;
    return out;
}

/** undefined for an empty map, so state holds no `{}` to diff against an absent input. */
export function nonEmpty<T extends object>(value: T | undefined): T | undefined {
    return value && Object.keys(value).length > 0 ? value : undefined;
}

/** A block device mapping of a finished image, as kept in state. */
export interface ImageBlockDeviceOutput {
    deviceName: string;
    snapshotId?: string;
    volumeSize?: number;
    volumeType?: string;
    encrypted?: boolean;
    /** The KMS key of an encrypted volume. */
    kmsKeyId?: string;
    deleteOnTermination?: boolean;
}

/** The image's block device mappings as EC2 reports them, in state form. */
export function imageBlockDeviceOutputs(image: Image): ImageBlockDeviceOutput[] {
    return (image.BlockDeviceMappings ?? []).map((m) => {
        const out: ImageBlockDeviceOutput = { deviceName: m.DeviceName ?? "" };
        if (m.Ebs?.SnapshotId) out.snapshotId = m.Ebs.SnapshotId;
        if (m.Ebs?.VolumeSize !== undefined) out.volumeSize = m.Ebs.VolumeSize;
        if (m.Ebs?.VolumeType) out.volumeType = m.Ebs.VolumeType;
        if (m.Ebs?.Encrypted !== undefined) out.encrypted = m.Ebs.Encrypted;
        if (m.Ebs?.Encrypted && m.Ebs.KmsKeyId) out.kmsKeyId = m.Ebs.KmsKeyId;
        if (m.Ebs?.DeleteOnTermination !== undefined) out.deleteOnTermination = m.Ebs.DeleteOnTermination;
        return out;
    });
}

/** The image, or undefined when EC2 does not know it (deregistered, never made, other region). */
export async function describeImage(region: string, imageId: string): Promise<Image | undefined> {
    try {
        const out = await ec2Client(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
        const image = out.Images?.[0];
        return image && image.State !== "deregistered" ? image : undefined;
    } catch (err) {
        if (isNotFound(err)) return undefined;
        throw explainAwsError(err, `describing image ${imageId} in ${region}`);
    }
}

/** Images of this account with exactly this name (0 or 1 in practice: names are unique per region). */
export async function findOwnImagesByName(region: string, name: string): Promise<Image[]> {
    try {
        const out = await ec2Client(region).send(
            new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: [name] }] }),
        );
        return (out.Images ?? []).filter((i) => i.State !== "deregistered");
    } catch (err) {
        throw explainAwsError(err, `looking for an existing image named "${name}" in ${region}`);
    }
}

/** The EBS snapshots an image's block device mappings point at, in mapping order. */
export function imageSnapshotIds(image: Image): string[] {
    return (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((s): s is string => !!s);
}

export async function describeSnapshots(region: string, snapshotIds: string[]): Promise<Snapshot[]> {
    if (snapshotIds.length === 0) return [];
    const out = await ec2Client(region).send(new DescribeSnapshotsCommand({ SnapshotIds: snapshotIds }));
    return out.Snapshots ?? [];
}

/** One look at an image and (when they were looked at) its snapshots. */
export interface ImageObservation {
    image?: Image;
    snapshots: Snapshot[];
    /** False when this look skipped DescribeSnapshots (nothing new to learn from them). */
    snapshotsObserved?: boolean;
}

function percent(progress: string | undefined): number {
    const n = parseFloat((progress ?? "0").replace("%", ""));
    return Number.isFinite(n) ? n : 0;
}

/**
 * The state of one image wait: judges readiness (`available` and every snapshot
 * `completed`) and decides when snapshots are worth a DescribeSnapshots call — to estimate
 * completion from their progress, when that estimate has passed, and to confirm at the end.
 * In between, one DescribeImages per look is enough.
 */
export class ImageWait {
    private readonly estimator = new ProgressEstimator();
    private expectedAt?: number;
    private lastSnapshotText = "";

    constructor(readonly imageId: string) {}

    /** Whether the next look should describe the snapshots too (given the image's state). */
    wantsSnapshots(image: Image | undefined, now: number): boolean {
        if (!image || imageSnapshotIds(image).length === 0) return false;
        return image.State === "available" || this.expectedAt === undefined || now >= this.expectedAt;
    }

    judge(o: ImageObservation, now: number): Verdict {
        const image = o.image;
        const imageId = this.imageId;
        if (!image) return { state: "pending", status: "not visible yet" };
        const state = image.State ?? "unknown";
        if (state === "failed" || state === "invalid" || state === "error" || state === "deregistered" || state === "disabled") {
            const reason = image.StateReason?.Message ?? image.StateReason?.Code ?? "no reason given";
            return { state: "failed", reason: `image ${imageId} is ${state}: ${reason}` };
        }
        const expected = imageSnapshotIds(image).length;
        if (o.snapshotsObserved !== false) {
            const failedSnapshot = o.snapshots.find((s) => s.State === "error");
            if (failedSnapshot) {
                return { state: "failed", reason: `snapshot ${failedSnapshot.SnapshotId} of image ${imageId} is in state error: ${failedSnapshot.StateMessage ?? "no reason given"}` };
            }
            const completed = o.snapshots.filter((s) => s.State === "completed").length;
            if (state === "available" && completed === expected) return { state: "done" };
            const pending = o.snapshots.filter((s) => s.State !== "completed");
            const slowest = pending.length ? Math.min(...pending.map((s) => percent(s.Progress))) : 100;
            // Without every StartTime, the estimator falls back to the rate between two looks.
            const starts = pending.map((s) => s.StartTime?.getTime());
            const startedAt = starts.length && starts.every((t) => t !== undefined) ? Math.min(...(starts as number[])) : undefined;
            this.expectedAt = pending.length ? this.estimator.observe(slowest, now, startedAt) : undefined;
            this.lastSnapshotText = expected ? `, snapshots ${completed}/${expected} completed (slowest ${slowest}%)` : "";
        } else if (state === "available" && expected === 0) {
            return { state: "done" };
        }
        return { state: "pending", status: `image ${state}${this.lastSnapshotText}`, expectedAt: this.expectedAt };
    }
}

/**
 * Serves every image wait of one region in the provider process: looks requested within a
 * few milliseconds of each other (waits wake on a shared grid, see IMAGE_WAIT_DELAYS) become
 * one DescribeImages and at most one DescribeSnapshots call, so five images waiting side by
 * side cost about what one costs.
 */
class RegionImageLooks {
    private queue: Array<{ wait: ImageWait; now: number; resolve: (o: ImageObservation) => void; reject: (e: unknown) => void }> = [];
    private timer?: NodeJS.Timeout;

    constructor(private readonly region: string, private readonly windowMs: number) {}

    /** Queues a look for `wait`, taken at `now` on the waiter's clock. */
    look(wait: ImageWait, now: number): Promise<ImageObservation> {
        return new Promise((resolve, reject) => {
            this.queue.push({ wait, now, resolve, reject });
            this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
        });
    }

    private async flush(): Promise<void> {
        const batch = this.queue;
        this.queue = [];
        this.timer = undefined;
        const client = ec2Client(this.region);
        try {
            const ids = [...new Set(batch.map((b) => b.wait.imageId))];
            const images = await describeImagesTolerant(this.region, ids);
            const snapshotIds = new Set<string>();
            const wants = new Map<ImageWait, boolean>();
            for (const { wait, now } of batch) {
                const image = images.get(wait.imageId);
                const want = wait.wantsSnapshots(image, now);
                wants.set(wait, want);
                if (want && image) for (const id of imageSnapshotIds(image)) snapshotIds.add(id);
            }
            const snapshots = snapshotIds.size
                ? ((await client.send(new DescribeSnapshotsCommand({ SnapshotIds: [...snapshotIds] }))).Snapshots ?? [])
                : [];
            for (const { wait, resolve } of batch) {
                const image = images.get(wait.imageId);
                const mine = new Set(image ? imageSnapshotIds(image) : []);
                resolve({ image, snapshots: snapshots.filter((s) => mine.has(s.SnapshotId!)), snapshotsObserved: wants.get(wait) });
            }
        } catch (err) {
            for (const { reject } of batch) reject(err);
        }
    }
}

/** DescribeImages for several IDs; one not found yet (just created) does not fail the others. */
async function describeImagesTolerant(region: string, ids: string[]): Promise<Map<string, Image>> {
    const client = ec2Client(region);
    const found = new Map<string, Image>();
    try {
        const out = await client.send(new DescribeImagesCommand({ ImageIds: ids }));
        for (const image of out.Images ?? []) found.set(image.ImageId!, image);
    } catch (err) {
        if (!isNotFound(err) || ids.length === 1) throw err;
        // One unknown ID fails the whole call: ask one by one this time.
        for (const id of ids) {
            const image = await describeImage(region, id);
            if (image) found.set(id, image);
        }
    }
    return found;
}

const regionLooks = new Map<string, RegionImageLooks>();

function looksFor(region: string): RegionImageLooks {
    let looks = regionLooks.get(region);
    if (!looks) {
        looks = new RegionImageLooks(region, 5);
        regionLooks.set(region, looks);
    }
    return looks;
}

/**
 * How image waits poll: first look after 2 s (an image is never ready sooner), then backoff
 * 1 s → 15 s while nothing predicts completion, and straight to the predicted completion
 * (up to 10 min away) when snapshot progress does; wake-ups on a shared 1 s grid (see
 * RegionImageLooks).
 */
export const IMAGE_WAIT_DELAYS: Partial<WaitDelays> = {
    initialMs: 2_000,
    minMs: 1_000,
    maxMs: 15_000,
    maxPredictedMs: 10 * 60_000,
    alignMs: 1_000,
};

export interface WaitImageOptions {
    timeoutMs: number;
    onProgress?: (status: string) => void;
    clock?: Clock;
    delays?: Partial<WaitDelays>;
    /** Multiplies every delay (time-compressed benchmarks); default 1. */
    timeScale?: number;
}

/**
 * Waits until the image is `available` and all its snapshots are `completed`; returns the
 * final observation. A `failed` image → WaitFailedError quoting its StateReason.
 */
export async function waitForImage(region: string, imageId: string, options: WaitImageOptions): Promise<ImageObservation> {
    const wait = new ImageWait(imageId);
    const looks = looksFor(region);
    const clock = options.clock ?? currentClock();
    return waitUntil<ImageObservation>({
        description: `image ${imageId} in ${region} to become available with all snapshots completed`,
        timeoutMs: options.timeoutMs,
        clock: options.clock,
        delays: { ...IMAGE_WAIT_DELAYS, ...options.delays },
        timeScale: options.timeScale,
        onProgress: options.onProgress,
        // Right after CreateImage/CopyImage, EC2 can briefly answer NotFound for the new ID.
        isTransient: isNotFound,
        observe: () => looks.look(wait, clock.now()),
        judge: (o, now) => wait.judge(o, now),
    });
}

/** What EC2 reports about an image, as both image resources keep it in state. */
export function imageFacts(image: Image) {
    return {
        imageId: image.ImageId!,
        snapshotIds: imageSnapshotIds(image),
        state: image.State ?? "unknown",
        creationDate: image.CreationDate,
        ownerId: image.OwnerId,
        architecture: image.Architecture,
        rootDeviceName: image.RootDeviceName,
        blockDeviceMappings: imageBlockDeviceOutputs(image),
    };
}

/** The user-set labels of an image: its tags, its snapshots' tags and its description. */
export interface ImageLabels {
    tags?: TagMap;
    snapshotTags?: TagMap;
    description?: string;
}

/** Brings tags, snapshot tags and description from `olds` to `news`, exactly the difference. */
export async function updateImageLabels(region: string, imageId: string, snapshotIds: string[], olds: ImageLabels, news: ImageLabels): Promise<void> {
    await updateTags(region, [imageId], olds.tags ?? {}, news.tags ?? {});
    await updateTags(region, snapshotIds, olds.snapshotTags ?? {}, news.snapshotTags ?? {});
    if ((olds.description ?? "") !== (news.description ?? "")) {
        try {
            await ec2Client(region).send(new ModifyImageAttributeCommand({ ImageId: imageId, Description: { Value: news.description ?? "" } }));
        } catch (err) {
            throw explainAwsError(err, `changing the description of image ${imageId} in ${region}`);
        }
    }
}

/** Adds and removes exactly the tags that differ, on every resource given. */
export async function updateTags(region: string, resourceIds: string[], olds: TagMap, news: TagMap): Promise<void> {
    if (resourceIds.length === 0) return;
    const client = ec2Client(region);
    const removed = Object.keys(olds).filter((k) => !(k in news));
    const changed = Object.entries(news).filter(([k, v]) => olds[k] !== v);
    try {
        if (removed.length) {
            await client.send(new DeleteTagsCommand({ Resources: resourceIds, Tags: removed.map((Key) => ({ Key })) }));
        }
        if (changed.length) {
            await client.send(new CreateTagsCommand({ Resources: resourceIds, Tags: changed.map(([Key, Value]) => ({ Key, Value })) }));
        }
    } catch (err) {
        throw explainAwsError(err, `updating tags of ${resourceIds.join(", ")} in ${region}`);
    }
}

/**
 * Deregisters an image and deletes its own snapshots (those in its block device mappings,
 * nothing else). Already gone is fine. Snapshot IDs known from state are used when the
 * image itself is gone, so a half-deleted image leaves no snapshot behind.
 */
export async function deleteImageAndSnapshots(region: string, imageId: string, knownSnapshotIds: string[] = []): Promise<void> {
    const client = ec2Client(region);
    const image = await describeImage(region, imageId);
    const snapshotIds = [...new Set([...(image ? imageSnapshotIds(image) : []), ...knownSnapshotIds])];
    if (image) {
        try {
            await client.send(new DeregisterImageCommand({ ImageId: imageId }));
        } catch (err) {
            if (!isNotFound(err)) throw explainAwsError(err, `deregistering image ${imageId} in ${region}`);
        }
    }
    for (const snapshotId of snapshotIds) {
        try {
            await client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
        } catch (err) {
            if (!isNotFound(err)) throw explainAwsError(err, `deleting snapshot ${snapshotId} of image ${imageId} in ${region}`);
        }
    }
}
