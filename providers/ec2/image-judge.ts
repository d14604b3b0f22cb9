/**
 * The judge of one image wait (an acceptor, in util-waiter's terms): from what a look saw of
 * an image and its snapshots, done / failed / pending with a predicted completion window,
 * and which calls the next look should make.
 */
import { Image, Snapshot } from "@aws-sdk/client-ec2";
import { CompletionWindow, lastOf, ProgressEstimator } from "./completion";
import { imageSnapshotIds } from "./images";
import { Verdict } from "./waiter";

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
export function imageOfSnapshot(snapshot: Snapshot): string | undefined {
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

