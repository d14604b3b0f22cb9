/**
 * One batcher of image-wait looks per region in the provider process: looks requested within
 * a few milliseconds of each other share their DescribeSnapshots and DescribeImages calls.
 */
import { DescribeSnapshotsCommand, Image, Snapshot } from "@aws-sdk/client-ec2";
import { ec2Client } from "./client";
import { describeImagesTolerant, describeSnapshotsInto, imageSnapshotIds } from "./images";
import { ImageObservation, ImageWait, imageOfSnapshot, snapshotDescriptionPatterns } from "./image-judge";

/**
 * Serves every image wait of one region in the provider process: looks requested within a
 * few milliseconds of each other (waits wake on a shared grid, see IMAGE_WAIT_DELAYS) share
 * their calls: one DescribeSnapshots by description for first looks, one by ID for waits
 * whose snapshots are pending, one DescribeImages for the waits that need the image, and one
 * DescribeSnapshots for snapshots just learned of; so five images waiting side by side cost
 * about what one costs.
 */
export class RegionImageLooks {
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

const regionLooks = new Map<string, RegionImageLooks>();

export function looksFor(region: string): RegionImageLooks {
    let looks = regionLooks.get(region);
    if (!looks) {
        looks = new RegionImageLooks(region, 5);
        regionLooks.set(region, looks);
    }
    return looks;
}

