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
import { CompletionWindow, lastOf, ProgressEstimator } from "./completion";
import { Clock, currentClock, Verdict, WaitDelays, waitUntil } from "./waiter";

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

/** One look at an image and its snapshots; a look may skip either part (see ImageWait). */
export interface ImageObservation {
    image?: Image;
    snapshots: Snapshot[];
    /** False when this look skipped DescribeImages (its snapshots were still pending). */
    imageObserved?: boolean;
    /** False when this look skipped DescribeSnapshots (nothing to learn from them). */
    snapshotsObserved?: boolean;
}

function percent(progress: string | undefined): number {
    const n = parseFloat((progress ?? "0").replace("%", ""));
    return Number.isFinite(n) ? n : 0;
}

/**
 * A snapshot-first look still describes the image this often, so an image that fails while
 * its snapshots stay pending is noticed (EC2 usually fails or deletes the snapshots too).
 */
export const IMAGE_RECHECK_MS = 2 * 60_000;

/**
 * What EC2 writes into the description of the snapshots it makes for an image, by CreateImage
 * ("Created by CreateImage(i-…) for ami-… from vol-…") and by CopyImage ("Copied for
 * DestinationAmi ami-… from SourceAmi ami-… for SourceSnapshot snap-…. Task created on …"),
 * as DescribeSnapshots `description` filter patterns: they find a new image's snapshots
 * without describing the image first.
 */
export function snapshotDescriptionPatterns(imageId: string): string[] {
    return [`Created by CreateImage(*) for ${imageId}*`, `Copied for DestinationAmi ${imageId} *`];
}

/** The image a snapshot was made for, from its description (see snapshotDescriptionPatterns). */
function imageOfSnapshot(snapshot: Snapshot): string | undefined {
    return /^(?:Created by CreateImage\([^)]*\) for|Copied for DestinationAmi) (ami-[0-9a-f]+)/.exec(snapshot.Description ?? "")?.[1];
}

/**
 * The state of one image wait: judges readiness (`available` and every snapshot
 * `completed`) and decides what each look describes. While the snapshots are pending, the
 * image has nothing new to say: a look describes only the snapshots (their progress predicts
 * completion, see completion.ts). Looks find them by their description until they are known;
 * the image is described when that finds none, once the snapshots have all completed (to confirm it is
 * available and has no others), when one failed or vanished (the image says why), and at
 * least every IMAGE_RECHECK_MS.
 */
export class ImageWait {
    private readonly estimators = new Map<string, ProgressEstimator>();
    /** The image's snapshots: from the last look at the image, or found by description before it. */
    private snapshotIds?: string[];
    /** Snapshots seen `completed` (a final state: no need to see them again). */
    private readonly completedIds = new Set<string>();
    /** The last description of each snapshot seen. */
    private readonly lastSeen = new Map<string, Snapshot>();
    /** When the image was last described (or its snapshots first found), for IMAGE_RECHECK_MS. */
    private imageCheckedAt?: number;
    private imageState = "pending";
    private lastSnapshotText = "";

    constructor(readonly imageId: string) {}

    /**
     * Whether this look should first search the image's snapshots by description: while none
     * is known (the first look; a pending copy whose mappings do not list its snapshots yet).
     */
    searchesSnapshots(): boolean {
        return !this.snapshotIds?.length;
    }

    /** The snapshots to describe first (and, while they are pending, only), or undefined to describe the image. */
    snapshotsFirst(now: number): string[] | undefined {
        const ids = this.snapshotIds;
        if (!ids?.length || ids.every((id) => this.completedIds.has(id))) return undefined;
        if (this.imageCheckedAt === undefined || now - this.imageCheckedAt >= IMAGE_RECHECK_MS) return undefined;
        return ids;
    }

    /** After a snapshots-first look: whether the image must be described too (none found, all completed, one failed or vanished). */
    needsImageAfter(found: Array<Snapshot | undefined>): boolean {
        if (found.length === 0) return true;
        return found.some((s) => !s || s.State === "error") || found.every((s) => s?.State === "completed");
    }

    /** Whether the snapshots of an image just described should be described in the same look. */
    wantsSnapshots(image: Image | undefined): boolean {
        if (!image || (image.State !== "pending" && image.State !== "available")) return false;
        return imageSnapshotIds(image).some((id) => !this.completedIds.has(id));
    }

    judge(o: ImageObservation, now: number): Verdict {
        const imageId = this.imageId;
        if (o.imageObserved !== false) {
            const image = o.image;
            if (!image) return { state: "pending", status: "not visible yet" };
            const state = image.State ?? "unknown";
            if (state === "failed" || state === "invalid" || state === "error" || state === "deregistered" || state === "disabled") {
                const reason = image.StateReason?.Message ?? image.StateReason?.Code ?? "no reason given";
                return { state: "failed", reason: `image ${imageId} is ${state}: ${reason}` };
            }
            this.imageState = state;
            this.imageCheckedAt = now;
            this.snapshotIds = imageSnapshotIds(image);
        } else if (!this.snapshotIds?.length) {
            // Found by description, before the image (described or not yet) listed them.
            this.snapshotIds = o.snapshots.map((s) => s.SnapshotId!);
            this.imageCheckedAt ??= now;
        }
        const ids = this.snapshotIds ?? [];
        let window: CompletionWindow | undefined;
        if (o.snapshotsObserved !== false) {
            const byId = new Map(o.snapshots.map((s) => [s.SnapshotId!, s]));
            for (const [id, snapshot] of byId) this.lastSeen.set(id, snapshot);
            const failedSnapshot = ids.map((id) => byId.get(id)).find((s) => s?.State === "error");
            if (failedSnapshot) {
                return { state: "failed", reason: `snapshot ${failedSnapshot.SnapshotId} of image ${imageId} is in state error: ${failedSnapshot.StateMessage ?? "no reason given"}` };
            }
            for (const id of ids) if (byId.get(id)?.State === "completed") this.completedIds.add(id);
            const pending = ids.filter((id) => !this.completedIds.has(id));
            if (pending.length) {
                window = lastOf(pending.map((id) => {
                    const s = byId.get(id);
                    if (!s) return undefined;
                    let estimator = this.estimators.get(id);
                    if (!estimator) this.estimators.set(id, (estimator = new ProgressEstimator()));
                    return estimator.observe(percent(s.Progress), now, s.StartTime?.getTime());
                }));
                const slowest = Math.min(...pending.map((id) => percent(byId.get(id)?.Progress)));
                this.lastSnapshotText = `, snapshots ${ids.length - pending.length}/${ids.length} completed (slowest ${slowest}%)`;
            } else {
                this.lastSnapshotText = ids.length ? `, snapshots ${ids.length}/${ids.length} completed` : "";
            }
        }
        if (o.imageObserved !== false && this.imageState === "available" && ids.every((id) => this.completedIds.has(id))) {
            return { state: "done" };
        }
        return { state: "pending", status: `image ${this.imageState}${this.lastSnapshotText}`, expectedAt: window?.earliest, expectedBy: window?.latest };
    }

    /** The image's snapshots as last seen (a final look need not describe snapshots already seen completed). */
    snapshotsOf(image: Image): Snapshot[] {
        return imageSnapshotIds(image).map((id) => this.lastSeen.get(id)).filter((s): s is Snapshot => !!s);
    }
}

/**
 * Serves every image wait of one region in the provider process: looks requested within a
 * few milliseconds of each other (waits wake on a shared grid, see IMAGE_WAIT_DELAYS) share
 * their calls: one DescribeSnapshots by description for first looks, one by ID for waits
 * whose snapshots are pending, one DescribeImages for the waits that need the image, and one
 * DescribeSnapshots for snapshots just learned of; so five images waiting side by side cost
 * about what one costs.
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
        try {
            const snapshots = new Map<string, Snapshot>();
            const first = new Map<ImageWait, string[]>();
            const searching = batch.filter(({ wait }) => wait.searchesSnapshots()).map(({ wait }) => wait);
            if (searching.length) {
                const found = await findSnapshotsOfImages(this.region, searching.map((w) => w.imageId));
                for (const wait of searching) {
                    const mine = found.filter((s) => imageOfSnapshot(s) === wait.imageId);
                    for (const s of mine) snapshots.set(s.SnapshotId!, s);
                    first.set(wait, mine.map((s) => s.SnapshotId!));
                }
            }
            const byId: string[] = [];
            for (const { wait, now } of batch) {
                const ids = first.has(wait) ? undefined : wait.snapshotsFirst(now);
                if (ids) {
                    first.set(wait, ids);
                    byId.push(...ids);
                }
            }
            await describeSnapshotsInto(this.region, byId, snapshots);

            const withImage = batch.filter(({ wait }) => {
                const ids = first.get(wait);
                return !ids || wait.needsImageAfter(ids.map((id) => snapshots.get(id)));
            });
            const images = withImage.length
                ? await describeImagesTolerant(this.region, [...new Set(withImage.map((b) => b.wait.imageId))])
                : new Map<string, Image>();
            const learned = withImage.flatMap(({ wait }) => {
                const image = images.get(wait.imageId);
                return image && wait.wantsSnapshots(image) ? imageSnapshotIds(image).filter((id) => !snapshots.has(id)) : [];
            });
            await describeSnapshotsInto(this.region, learned, snapshots);

            for (const { wait, resolve } of batch) {
                const imageObserved = withImage.some((b) => b.wait === wait);
                const image = images.get(wait.imageId);
                const ids = imageObserved ? (image ? imageSnapshotIds(image) : []) : first.get(wait)!;
                resolve({
                    image,
                    imageObserved,
                    snapshots: ids.map((id) => snapshots.get(id)).filter((s): s is Snapshot => !!s),
                    snapshotsObserved: first.has(wait) || (imageObserved && wait.wantsSnapshots(image)),
                });
            }
        } catch (err) {
            for (const { reject } of batch) reject(err);
        }
    }
}

/** The account's own snapshots made for these images, found by description (see snapshotDescriptionPatterns). */
async function findSnapshotsOfImages(region: string, imageIds: string[]): Promise<Snapshot[]> {
    const out = await ec2Client(region).send(
        new DescribeSnapshotsCommand({
            OwnerIds: ["self"],
            Filters: [{ Name: "description", Values: imageIds.flatMap(snapshotDescriptionPatterns) }],
        }),
    );
    return out.Snapshots ?? [];
}

/**
 * DescribeSnapshots for these IDs into `into`. One unknown ID fails the whole call (a
 * snapshot deleted with its failed image, or not visible yet): then one by one, skipping it.
 */
async function describeSnapshotsInto(region: string, ids: string[], into: Map<string, Snapshot>): Promise<void> {
    const unique = [...new Set(ids)];
    try {
        for (const s of await describeSnapshots(region, unique)) into.set(s.SnapshotId!, s);
    } catch (err) {
        if (!isNotFound(err)) throw err;
        if (unique.length > 1) for (const id of unique) await describeSnapshotsInto(region, [id], into);
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
 * 1 s → 15 s while nothing predicts completion, and to the predicted completion window (up to
 * 10 min away) when snapshot progress does: to its end when it is at most 1.5 s wide, else
 * to its start; wake-ups on a shared 500 ms grid (see RegionImageLooks), so waits of images
 * created up to about half a second apart still look together (250 ms split them under load).
 */
export const IMAGE_WAIT_DELAYS: Partial<WaitDelays> = {
    initialMs: 2_000,
    minMs: 1_000,
    maxMs: 15_000,
    maxPredictedMs: 10 * 60_000,
    waitOutMs: 1_500,
    alignMs: 500,
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
    const final = await waitUntil<ImageObservation>({
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
    return { ...final, snapshots: wait.snapshotsOf(final.image!) };
}

/** What EC2 reports about an image, as both image resources keep it in state. */
export interface ImageFacts {
    imageId: string;
    snapshotIds: string[];
    state: string;
    creationDate?: string;
    ownerId?: string;
    architecture?: string;
    rootDeviceName?: string;
    /** The image's block device mappings as EC2 reports them (encryption and KMS key included). */
    blockDeviceMappings: ImageBlockDeviceOutput[];
}

export function imageFacts(image: Image): ImageFacts {
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

/** The state golden-ami records for an image deregistered out of band whose snapshots are left. */
export const DEREGISTERED = "deregistered";

/**
 * What `read` (refresh) keeps of an image EC2 no longer knows. Deregistering an image leaves
 * its snapshots, and those recorded in state are golden-ami's: while any still exists the
 * resource stays in state, marked `deregistered` with just those snapshots, so the next
 * `pulumi up` replaces it and its delete removes them (nothing leaked); undefined (drop it
 * from state) when nothing of it is left.
 */
export async function readDeregisteredImage<T extends { state: string; snapshotIds?: string[] }>(region: string, props: T): Promise<T | undefined> {
    const left = new Map<string, Snapshot>();
    await describeSnapshotsInto(region, props.snapshotIds ?? [], left);
    const snapshotIds = (props.snapshotIds ?? []).filter((id) => left.has(id));
    return snapshotIds.length ? { ...props, state: DEREGISTERED, snapshotIds } : undefined;
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
