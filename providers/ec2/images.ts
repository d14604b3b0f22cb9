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
    Snapshot,
    Tag,
} from "@aws-sdk/client-ec2";
import { ec2Client } from "./client";
import { explainAwsError, isNotFound } from "./errors";
import { Clock, ProgressEstimator, Verdict, WaitDelays, waitUntil } from "./waiter";

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

/** One look at an image and its snapshots. */
export interface ImageObservation {
    image?: Image;
    snapshots: Snapshot[];
}

function percent(progress: string | undefined): number {
    const n = parseFloat((progress ?? "0").replace("%", ""));
    return Number.isFinite(n) ? n : 0;
}

/**
 * Judges image readiness: `available` and every snapshot `completed`. Predicts completion
 * from the slowest snapshot's progress rate so the waiter can look again right then.
 */
export function imageJudge(imageId: string): (o: ImageObservation, now: number) => Verdict {
    const estimator = new ProgressEstimator();
    return (o, now) => {
        const image = o.image;
        if (!image) return { state: "pending", status: "not visible yet" };
        const state = image.State ?? "unknown";
        if (state === "failed" || state === "invalid" || state === "error" || state === "deregistered" || state === "disabled") {
            const reason = image.StateReason?.Message ?? image.StateReason?.Code ?? "no reason given";
            return { state: "failed", reason: `image ${imageId} is ${state}: ${reason}` };
        }
        const failedSnapshot = o.snapshots.find((s) => s.State === "error");
        if (failedSnapshot) {
            return { state: "failed", reason: `snapshot ${failedSnapshot.SnapshotId} of image ${imageId} is in state error: ${failedSnapshot.StateMessage ?? "no reason given"}` };
        }
        const expected = imageSnapshotIds(image).length;
        const completed = o.snapshots.filter((s) => s.State === "completed").length;
        if (state === "available" && completed === expected) return { state: "done" };
        const slowest = o.snapshots.length ? Math.min(...o.snapshots.map((s) => (s.State === "completed" ? 100 : percent(s.Progress)))) : 0;
        const snapText = expected ? `, snapshots ${completed}/${expected} completed (slowest ${slowest}%)` : "";
        return {
            state: "pending",
            status: `image ${state}${snapText}`,
            expectedAt: o.snapshots.length ? estimator.observe(slowest, now) : undefined,
        };
    };
}

export interface WaitImageOptions {
    timeoutMs: number;
    onProgress?: (status: string) => void;
    clock?: Clock;
    delays?: Partial<WaitDelays>;
}

/**
 * Waits until the image is `available` and all its snapshots are `completed`; returns the
 * final observation. A `failed` image → WaitFailedError quoting its StateReason.
 */
export async function waitForImage(region: string, imageId: string, options: WaitImageOptions): Promise<ImageObservation> {
    return waitUntil<ImageObservation>({
        description: `image ${imageId} in ${region} to become available with all snapshots completed`,
        timeoutMs: options.timeoutMs,
        clock: options.clock,
        delays: options.delays,
        onProgress: options.onProgress,
        // Right after CreateImage/CopyImage, EC2 can briefly answer NotFound for the new ID.
        isTransient: isNotFound,
        observe: async () => {
            const out = await ec2Client(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
            const image = out.Images?.[0];
            if (!image) return { snapshots: [] };
            const ids = imageSnapshotIds(image);
            // Snapshot IDs appear in the mappings while the image is pending; look at them only then.
            return { image, snapshots: await describeSnapshots(region, ids) };
        },
        judge: imageJudge(imageId),
    });
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
