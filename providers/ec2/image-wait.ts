/**
 * The wait until an image is usable: `available`, and every EBS snapshot behind it
 * `completed`, judged by ImageWait (image-judge.ts) on looks that RegionImageLooks
 * (region-looks.ts) batches across the waits of a region.
 */
import { realClock, WaitContext } from "../core/context";
import { isNotFound } from "../core/errors";
import { ImageObservation, ImageWait } from "./image-judge";
import { looksFor } from "./region-looks";
import { WaitDelays, waitUntil } from "./waiter";

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

export interface WaitImageOptions extends Partial<WaitContext> {
    timeoutMs: number;
    onProgress?: (status: string) => void;
    delays?: Partial<WaitDelays>;
}

/**
 * Waits until the image is `available` and all its snapshots are `completed`; returns the
 * final observation. A `failed` image → WaitFailedError quoting its StateReason.
 */
export async function waitForImage(region: string, imageId: string, options: WaitImageOptions): Promise<ImageObservation> {
    const wait = new ImageWait(imageId);
    const looks = looksFor(region);
    const clock = options.clock ?? realClock;
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

