/**
 * CopyImage that never makes a second copy: a ClientToken derived from the request, so a
 * repeated call (a retry after the process died) returns the copy already made.
 *
 * EC2 remembers a token well beyond the life of what it made: after `pulumi destroy`, the same
 * request would be answered with the ID of the deleted copy. Such an answer (an image that
 * is deregistered, or stays invisible) is stepped over with the next token of a deterministic
 * chain (salted with the stale ID), so a retry still follows the same chain to the same copy.
 */
import { CopyImageCommand, CopyImageCommandOutput, CopyImageRequest, DescribeImagesCommand, Image } from "@aws-sdk/client-ec2";
import { ProgressFn, WaitContext } from "../core/context";
import { GoldenAmiError, isNotFound, isResourceLimitExceeded } from "../core/errors";
import { copyClientToken } from "../core/naming";
import { TagMap, toTagList } from "../core/tags";
import { ec2Client } from "./client";
import { WaitFailedError, WaitTimeoutError, waitUntil } from "./waiter";

/** How long a fresh CopyImage answer may stay invisible before it counts as a stale ClientToken answer. */
const FRESH_COPY_GRACE_MS = 5_000;
/** How many stale ClientToken answers are stepped over before giving up. */
const MAX_TOKEN_GENERATIONS = 5;

export interface CopyRequest {
    sourceImageId: string;
    sourceRegion: string;
    name: string;
    description?: string;
    encrypted: boolean;
    kmsKeyId?: string;
    copyImageTags: boolean;
    /** A time-based copy: every snapshot within this many minutes. */
    completionDurationMinutes?: number;
    imageTags: TagMap;
    snapshotTags: TagMap;
}

/** How long ResourceLimitExceeded is retried before it is the caller's error. */
const RESOURCE_LIMIT_RETRY_MS = 60 * 60_000;
/** A copy takes minutes: no point asking again within seconds. */
const RESOURCE_LIMIT_DELAYS = { minMs: 5_000, maxMs: 60_000, factor: 2, jitter: 0.2 };

/** The waits' context, where "waiting for a copy slot" goes, and (tests) the retry's limit and randomness. */
export interface CopyWaits extends Partial<WaitContext> {
    progress?: ProgressFn;
    resourceLimitRetryMs?: number;
    random?: () => number;
}

/** The copy's ID, made in `region`. Errors other than stale tokens are the SDK's, unexplained. */
export async function copyImage(region: string, copy: CopyRequest, waits: CopyWaits = {}): Promise<string> {
    const request: CopyImageRequest = {
        SourceImageId: copy.sourceImageId,
        SourceRegion: copy.sourceRegion,
        Name: copy.name,
        Description: copy.description,
        Encrypted: copy.encrypted,
        KmsKeyId: copy.kmsKeyId,
        CopyImageTags: copy.copyImageTags,
        SnapshotCopyCompletionDurationMinutes: copy.completionDurationMinutes,
        TagSpecifications: [
            { ResourceType: "image", Tags: toTagList(copy.imageTags) },
            { ResourceType: "snapshot", Tags: toTagList(copy.snapshotTags) },
        ],
    };
    const stale: string[] = [];
    for (;;) {
        const ClientToken = copyClientToken({ region, request, ...(stale.length ? { after: stale } : {}) });
        const imageId = await startCopy(region, { ...request, ClientToken }, copy.name, waits);
        if (await isLiveImage(region, imageId, waits)) return imageId;
        stale.push(imageId);
        if (stale.length >= MAX_TOKEN_GENERATIONS) {
            throw new GoldenAmiError(
                `golden-ami: CopyImage in ${region} kept answering with images that no longer exist (${stale.join(", ")}). What to do: run \`pulumi up\` again later.`,
                "StaleClientToken",
            );
        }
    }
}

/**
 * CopyImage, with ResourceLimitExceeded (too many snapshot copies in flight into the region:
 * copies golden-ami's slots do not know of, another stack's or a console copy) retried with
 * backoff through the one waiter, as "waiting for a copy slot", for up to RESOURCE_LIMIT_RETRY_MS.
 */
async function startCopy(region: string, request: CopyImageRequest, name: string, waits: CopyWaits): Promise<string> {
    const out = await waitUntil<CopyImageCommandOutput>({
        description: `a copy slot in ${region} for ${name}`,
        timeoutMs: waits.resourceLimitRetryMs ?? RESOURCE_LIMIT_RETRY_MS,
        delays: RESOURCE_LIMIT_DELAYS,
        isTransient: isResourceLimitExceeded,
        clock: waits.clock,
        timeScale: waits.timeScale,
        random: waits.random,
        onProgress: (status) => {
            if (status.includes("ResourceLimitExceeded")) waits.progress?.(`waiting for a copy slot in ${region}: EC2 answered ResourceLimitExceeded, retrying`);
        },
        observe: () => ec2Client(region).send(new CopyImageCommand(request)),
        judge: () => ({ state: "done" }),
    });
    return out.ImageId!;
}

/** True when the image is (or becomes within a short grace) visible and not deregistered. */
async function isLiveImage(region: string, imageId: string, waits: CopyWaits): Promise<boolean> {
    try {
        await waitUntil<Image | undefined>({
            description: `copy ${imageId} in ${region} to be visible`,
            timeoutMs: FRESH_COPY_GRACE_MS,
            delays: { minMs: 1_000, maxMs: 2_000 },
            isTransient: isNotFound,
            clock: waits.clock,
            timeScale: waits.timeScale,
            observe: async () => (await ec2Client(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0],
            judge: (image) =>
                !image ? { state: "pending", status: "not visible yet" }
                : image.State === "deregistered" ? { state: "failed", reason: "deregistered" }
                : { state: "done" },
        });
        return true;
    } catch (err) {
        if (err instanceof WaitFailedError || err instanceof WaitTimeoutError) return false;
        throw err;
    }
}
