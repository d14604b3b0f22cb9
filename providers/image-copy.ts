/**
 * ImageCopy: copies an AMI into a region (another one, or its own under another name) with
 * CopyImage, and waits until the copy is available and every EBS snapshot behind it has
 * completed.
 *
 * Built like InstanceImage: a copy made but not yet finished is reported to Pulumi as a partial
 * create (kept in state, resumed by the next `pulumi up`); a copy made by a run that died before
 * it could report is found again by its deterministic name and marker tags and adopted, never
 * duplicated; CopyImage carries a ClientToken derived from the request, so a retried call makes
 * no second copy. A copy that fails is deleted with its snapshots, and the error quotes EC2's
 * reason. Copies into several regions wait side by side: nothing here serialises them.
 */
import { CopyImageCommand, CopyImageRequest, DescribeImagesCommand, Image, ModifyImageAttributeCommand, Snapshot } from "@aws-sdk/client-ec2";
import * as pulumi from "@pulumi/pulumi";
import { Checker, containsUnknown, isUnknown } from "./checks";
import { ec2Client } from "./ec2/client";
import {
    applyDistribution,
    checkDistribution,
    DistributionArgs,
    DistributionInputs,
    hasDistribution,
    pickDistribution,
    readDistribution,
    reconcileDistribution,
    withoutDistribution,
} from "./ec2/distribution";
import { awsErrorCode, explainAwsError, GoldenAmiError, isNotFound } from "./ec2/errors";
import {
    deleteImageAndSnapshots,
    describeImage,
    describeSnapshots,
    findOwnImagesByName,
    fromTagList,
    ImageFacts,
    imageFacts,
    ImageObservation,
    imageSnapshotIds,
    nonEmpty,
    TagMap,
    toTagList,
    updateImageLabels,
    updateTags,
    waitForImage,
    withoutMarkerTags,
} from "./ec2/images";
import { copyClientToken, deterministicImageName, MANAGED_BY_VALUE, MARKER_TAGS, resourceNameFromUrn } from "./ec2/naming";
import { defaultRegion, regionProblem } from "./ec2/region";
import { minutes, WaitFailedError, waitUntil } from "./ec2/waiter";
import { DEFAULT_IMAGE_TIMEOUT_MINUTES } from "./instance-image";
import { diffImage, readImage } from "./image-provider";
import { hostKeys, PartialCreateError } from "./partial";
import { progressFor, ProgressFn } from "./progress";
import { ImageResource } from "./image-resource";

/** Arguments of an {@link ImageCopy}; the distribution arguments ({@link DistributionInputs}) are changed in place. */
export interface ImageCopyArgs extends DistributionInputs {
    /** The image to copy (`ami-...`), in `sourceRegion`: your own, or one shared with you. Changing it makes a new copy. */
    sourceImageId: pulumi.Input<string>;
    /**
     * Region of the source image. Default: the stack's `aws:region`, else `AWS_REGION` /
     * `AWS_DEFAULT_REGION`. Changing it makes a new copy.
     */
    sourceRegion?: pulumi.Input<string>;
    /**
     * Region the copy is made in (the destination). Default: the stack's `aws:region`, else
     * `AWS_REGION` / `AWS_DEFAULT_REGION`. A copy into the source region needs a name other than
     * the source image's. Changing it makes a new copy.
     */
    region?: pulumi.Input<string>;
    /**
     * AMI name of the copy (3-128 characters of letters, digits and `( ) [ ] space . / - ' @ _`;
     * unique per region and account). Default: the resource name plus a hash of what defines the
     * copy (source image, source region, region, encrypted, kmsKeyId), so a retried create finds
     * the copy it already made. Changing it makes a new copy.
     */
    name?: pulumi.Input<string>;
    /** Description of the copy (at most 255 characters). Updated in place. */
    description?: pulumi.Input<string>;
    /**
     * Encrypt the copy's snapshots: with `kmsKeyId`, else with the destination region's default
     * EBS key. Default: true when `kmsKeyId` is set, else false, which copies as the source is
     * (a copy of an encrypted image is always encrypted). Changing it makes a new copy.
     */
    encrypted?: pulumi.Input<boolean>;
    /**
     * The KMS key that encrypts the copy, in the destination `region` (KMS keys are regional): a
     * key ID (`1234abcd-12ab-34cd-56ef-1234567890ab`), key ARN, alias (`alias/my-key`) or alias
     * ARN. Needs `encrypted` true (or unset). Changing it makes a new copy.
     */
    kmsKeyId?: pulumi.Input<string>;
    /**
     * Copy the source image's own tags onto the copy (EC2's CopyImageTags; `aws:` tags are never
     * copied). They are kept apart from `tags` (output `copiedTags`). Default false. Updated in
     * place: turning it on copies the source's current tags, turning it off removes them.
     */
    copyImageTags?: pulumi.Input<boolean>;
    /** Tags of the copy, set by CopyImage itself. Updated in place (exactly the difference). */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Tags of the copy's EBS snapshots, set by CopyImage itself. Updated in place. */
    snapshotTags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Make a time-based copy: every snapshot is copied within this many minutes, from 15 to 2880
     * (48 hours) in steps of 15 (EBS time-based copies; charged extra). Default: a standard,
     * best-effort copy. Only used when the copy is made.
     */
    snapshotCopyCompletionDurationMinutes?: pulumi.Input<number>;
    /**
     * How long the copy may take to become available with all snapshots completed, in minutes.
     * Default 60. When it runs out, the copy is kept in state and the next `pulumi up` resumes waiting.
     */
    imageTimeoutMinutes?: pulumi.Input<number>;
}

/** The normalised inputs the provider works with (after `check`). */
export interface ImageCopyInputs extends DistributionArgs {
    sourceImageId: string;
    sourceRegion: string;
    region: string;
    name: string;
    description?: string;
    encrypted: boolean;
    kmsKeyId?: string;
    copyImageTags: boolean;
    tags?: TagMap;
    snapshotTags?: TagMap;
    snapshotCopyCompletionDurationMinutes?: number;
    imageTimeoutMinutes: number;
    /** Set by the resource class: its own URN, so progress shows on its row. */
    resourceUrn?: string;
}

/** Everything the provider keeps in state: the inputs plus what EC2 reports about the copy. */
export interface ImageCopyOutputs extends ImageCopyInputs, ImageFacts {
    /** The source image's tags that `copyImageTags` put on the copy; kept apart from `tags`. */
    copiedTags?: TagMap;
    /** False while a step after CopyImage is unfinished (the next `pulumi up` finishes it). */
    complete?: boolean;
}

/** Inputs whose change needs a new copy. */
const REPLACE_KEYS = ["sourceImageId", "sourceRegion", "region", "name", "encrypted", "kmsKeyId"] as const;
/** Inputs changed in place (or, for the last two, only recorded). */
const UPDATE_KEYS = ["description", "tags", "snapshotTags", "copyImageTags", "snapshotCopyCompletionDurationMinutes", "imageTimeoutMinutes"] as const;
/** AWS allows 50 tags per resource; golden-ami uses up to 2 of them. */
const MAX_USER_TAGS = 48;
/** EBS time-based copies: 15 minutes to 48 hours, in 15-minute steps. */
const COMPLETION_MINUTES = { min: 15, max: 2880, step: 15 };
/** How long `check` waits for the source image's name (same-region copies only) before it lets create judge. */
const CHECK_LOOKUP_MS = 10_000;
/** How long a fresh CopyImage answer may stay invisible before it counts as a stale ClientToken answer. */
const FRESH_COPY_GRACE_MS = 5_000;
/** How many stale ClientToken answers are stepped over before giving up. */
const MAX_TOKEN_GENERATIONS = 5;

// KMS key identifiers CopyImage accepts: key ID (multi-Region keys start with mrk-), alias, key ARN, alias ARN.
const KMS_KEY_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const KMS_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

/** What defines the copy: its hash is part of the default name. */
function copyIdentity(i: Pick<ImageCopyInputs, "sourceImageId" | "sourceRegion" | "region" | "encrypted" | "kmsKeyId">): unknown {
    return { sourceImageId: i.sourceImageId, sourceRegion: i.sourceRegion, region: i.region, encrypted: i.encrypted, kmsKeyId: i.kmsKeyId ?? null };
}


function sourceMarker(inputs: Pick<ImageCopyInputs, "sourceRegion" | "sourceImageId">): string {
    return `${inputs.sourceRegion}/${inputs.sourceImageId}`;
}

function markerTags(inputs: ImageCopyInputs): TagMap {
    return { [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.sourceImage]: sourceMarker(inputs) };
}

function minusKeys(tags: TagMap, keys: object | undefined): TagMap {
    const drop = new Set(Object.keys(keys ?? {}));
    return Object.fromEntries(Object.entries(tags).filter(([k]) => !drop.has(k)));
}

/** The source's tags that CopyImageTags put on the copy: the copy's own tags minus markers and the declared ones. */
function copiedTagsOf(inputs: ImageCopyInputs, image: Image): TagMap {
    return inputs.copyImageTags ? minusKeys(withoutMarkerTags(fromTagList(image.Tags)), inputs.tags) : {};
}

/**
 * State from the inputs and the live copy. Create, update and read all use it, so a refresh
 * right after a create reports no change. `distribution` is what is live (create/update: the
 * inputs just applied; read: {@link reconcileDistribution} of state and EC2); `copiedTags` are
 * reported apart from `tags`, unless the user declares the same key.
 */
function outputsFor(inputs: ImageCopyInputs, image: Image, snapshots: Snapshot[], distribution: DistributionArgs, copiedTags: TagMap): ImageCopyOutputs {
    const snapshotIds = imageSnapshotIds(image);
    const firstSnapshot = snapshots.find((s) => s.SnapshotId === snapshotIds[0]);
    const declared = inputs.tags ?? {};
    const live = withoutMarkerTags(fromTagList(image.Tags));
    const tags = Object.fromEntries(Object.entries(live).filter(([k, v]) => k in declared || copiedTags[k] !== v));
    const outs: ImageCopyOutputs = {
        ...withoutDistribution(inputs),
        ...distribution,
        name: image.Name ?? inputs.name,
        description: image.Description || undefined,
        tags: nonEmpty(tags),
        snapshotTags: firstSnapshot ? nonEmpty(withoutMarkerTags(fromTagList(firstSnapshot.Tags))) : inputs.snapshotTags,
        ...imageFacts(image),
        copiedTags: nonEmpty(copiedTags),
    };
    return JSON.parse(JSON.stringify(outs)); // drop undefined: state holds no nulls to diff against
}

/** State recorded for a copy that exists but is not ready yet. */
function stateBeforeReady(inputs: ImageCopyInputs, imageId: string, state: string): ImageCopyOutputs {
    return JSON.parse(JSON.stringify({
        ...withoutDistribution(inputs),
        imageId,
        snapshotIds: [],
        state,
        complete: false,
        blockDeviceMappings: [],
    }));
}

/** Inputs as recorded in state (for read/refresh), with what only the image knows. */
function inputsFromState(props: ImageCopyOutputs, image: Image): ImageCopyInputs {
    return {
        sourceImageId: props.sourceImageId,
        sourceRegion: props.sourceRegion,
        region: props.region,
        name: image.Name ?? props.name,
        description: props.description,
        encrypted: props.encrypted ?? false,
        kmsKeyId: props.kmsKeyId,
        copyImageTags: props.copyImageTags ?? false,
        tags: props.tags,
        snapshotTags: props.snapshotTags,
        snapshotCopyCompletionDurationMinutes: props.snapshotCopyCompletionDurationMinutes,
        imageTimeoutMinutes: props.imageTimeoutMinutes ?? DEFAULT_IMAGE_TIMEOUT_MINUTES,
        resourceUrn: props.resourceUrn,
        ...pickDistribution(props),
    };
}

/** Validates `kmsKeyId` against the shapes CopyImage accepts, `encrypted`, and the destination region. */
function checkKmsKey(c: Checker, value: unknown, encrypted: unknown, region: unknown): void {
    if (!c.string("kmsKeyId", value)) return;
    if (encrypted === false) {
        c.fail("kmsKeyId", "kmsKeyId: a KMS key encrypts the copy, but encrypted is false; set encrypted to true (or leave it out), or remove kmsKeyId");
    }
    const arn = KMS_ARN.exec(value);
    if (arn) {
        const [, keyRegion, , kind, rest] = arn;
        const shapeOk = kind === "key" ? KMS_KEY_ID.test(rest) : KMS_ALIAS.test(`alias/${rest}`);
        if (!shapeOk || regionProblem(keyRegion)) {
            c.fail("kmsKeyId", `kmsKeyId: "${value}" is not a valid KMS key or alias ARN; it looks like "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"`);
        } else if (typeof region === "string" && !regionProblem(region) && keyRegion !== region) {
            c.fail(
                "kmsKeyId",
                `kmsKeyId: the key "${value}" is in ${keyRegion}, but the copy is made in ${region}; KMS keys are regional, so use a key of ${region} (arn:aws:kms:${region}:...)`,
            );
        }
        return;
    }
    if (!KMS_KEY_ID.test(value) && !KMS_ALIAS.test(value)) {
        c.fail(
            "kmsKeyId",
            `kmsKeyId: "${value}" is not a KMS key ID, key ARN, alias or alias ARN; write it like "1234abcd-12ab-34cd-56ef-1234567890ab", "alias/my-key" or "arn:aws:kms:${typeof region === "string" ? region : "<region>"}:123456789012:key/<key-id>"`,
        );
    }
}

function checkCompletionDuration(c: Checker, value: unknown): void {
    if (value === undefined || value === null || isUnknown(value)) return;
    const { min, max, step } = COMPLETION_MINUTES;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max || value % step !== 0) {
        c.fail(
            "snapshotCopyCompletionDurationMinutes",
            `snapshotCopyCompletionDurationMinutes must be a whole number of minutes from ${min} to ${max} (48 hours) in steps of ${step}, not ${JSON.stringify(value)}`,
        );
    }
}

/** The source image's name, or undefined if it cannot be found quickly (create then judges). */
async function sourceImageName(region: string, imageId: string): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), CHECK_LOOKUP_MS);
        timer.unref?.();
    });
    try {
        return await Promise.race([describeImage(region, imageId).then((image) => image?.Name), timeout]);
    } catch {
        return undefined;
    } finally {
        clearTimeout(timer);
    }
}

function defaultedRegion(c: Checker, property: string, value: unknown): unknown {
    if (value !== undefined) return value;
    try {
        return defaultRegion();
    } catch (err) {
        c.fail(property, (err as Error).message);
        return undefined;
    }
}

/** The provider (runs in Pulumi's dynamic-provider process; loaded there by name, see shim.ts). */
export const imageCopyProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Partial<ImageCopyInputs>, news: Record<string, unknown>) {
        const c = new Checker();
        const n = news as Partial<ImageCopyInputs> & Record<string, unknown>;
        if (c.required("sourceImageId", n.sourceImageId, "the ID of the image to copy (ami-...)")) c.id("sourceImageId", n.sourceImageId, "image");
        c.region("sourceRegion", n.sourceRegion);
        c.region("region", n.region);
        const sourceRegion = defaultedRegion(c, "sourceRegion", n.sourceRegion);
        const region = defaultedRegion(c, "region", n.region);
        c.amiName("name", n.name);
        c.maxLength("description", n.description, 255);
        c.boolean("encrypted", n.encrypted);
        checkKmsKey(c, n.kmsKeyId, n.encrypted, region);
        c.boolean("copyImageTags", n.copyImageTags);
        c.tags("tags", n.tags, MAX_USER_TAGS);
        c.tags("snapshotTags", n.snapshotTags, MAX_USER_TAGS);
        checkCompletionDuration(c, n.snapshotCopyCompletionDurationMinutes);
        c.positiveNumber("imageTimeoutMinutes", n.imageTimeoutMinutes, "minutes");
        c.failures.push(...checkDistribution(n, Date.now(), olds));

        const inputs: Record<string, unknown> = {
            ...news,
            sourceRegion,
            region,
            // A key implies encryption (EC2 refuses a key without Encrypted).
            encrypted: n.encrypted ?? (n.kmsKeyId !== undefined && n.kmsKeyId !== null),
            copyImageTags: n.copyImageTags ?? false,
            imageTimeoutMinutes: n.imageTimeoutMinutes ?? DEFAULT_IMAGE_TIMEOUT_MINUTES,
        };
        if (n.name === undefined) {
            const identity = copyIdentity(inputs as unknown as ImageCopyInputs);
            if (!containsUnknown(identity)) {
                const derived = deterministicImageName(resourceNameFromUrn(n.resourceUrn), identity);
                // A renamed resource (same identity) keeps the name its copy already has.
                const keep = olds.name && olds.name.endsWith(derived.slice(derived.lastIndexOf("-")));
                inputs.name = keep ? olds.name : derived;
            }
        } else if (
            typeof n.name === "string" && typeof region === "string" && region === sourceRegion &&
            typeof n.sourceImageId === "string" && c.failures.length === 0 && n.name !== olds.name
        ) {
            // A copy into the source's own region cannot share its name (names are unique per region).
            const sourceName = await sourceImageName(region, n.sourceImageId);
            if (sourceName === n.name) {
                c.fail(
                    "name",
                    `name: "${n.name}" is the name of the source image ${n.sourceImageId}; a copy into its own region (${region}) needs another name (or leave name out for a derived one)`,
                );
            }
        }
        return { inputs, failures: c.failures };
    },

    async diff(_id: string, olds: ImageCopyOutputs, news: ImageCopyInputs) {
        return diffImage(olds, olds as unknown as Record<string, unknown>, news, { replace: REPLACE_KEYS, update: UPDATE_KEYS });
    },

    async create(raw: Record<string, unknown>) {
        const inputs = raw as unknown as ImageCopyInputs;
        const progress = progressFor(inputs.resourceUrn);
        const { region } = inputs;
        const { imageId, adopted } = await findOrCopyImage(inputs, progress);

        let ready: ImageObservation;
        try {
            ready = await waitForImage(region, imageId, { timeoutMs: minutes(inputs.imageTimeoutMinutes), onProgress: progress });
        } catch (err) {
            if (err instanceof WaitFailedError) {
                // A failed copy is useless: remove it and its snapshots now (nothing orphaned), then fail.
                progress(`copy ${imageId} failed; deleting it and its snapshots`);
                try {
                    await deleteImageAndSnapshots(region, imageId);
                } catch (cleanup) {
                    // Keep it in state, so `pulumi destroy` (or the next up) can remove it.
                    const both = new GoldenAmiError(`${err.message} Deleting the failed copy failed too: ${(cleanup as Error).message}`, "WaitFailed");
                    throw new PartialCreateError(imageId, { ...hostKeys(raw), ...stateBeforeReady(inputs, imageId, "failed") }, both);
                }
                throw err;
            }
            // The copy exists: record it, so the next `pulumi up` resumes and destroy removes it.
            throw new PartialCreateError(imageId, { ...hostKeys(raw), ...stateBeforeReady(inputs, imageId, "pending") }, err as Error);
        }

        const copiedTags = copiedTagsOf(inputs, ready.image!);
        try {
            const outs = await completeCopy(inputs, imageId, ready, progress, adopted, copiedTags);
            return { id: imageId, outs: { ...outs, complete: true } };
        } catch (err) {
            // The copy is good; only a later step failed. Keep it, and let the next `pulumi up` finish the steps
            // (the resume reads what distribution is live and applies the rest).
            const outs = outputsFor(inputs, ready.image!, ready.snapshots, {}, copiedTags);
            throw new PartialCreateError(imageId, { ...hostKeys(raw), ...outs, complete: false }, err as Error);
        }
    },

    async read(id: string, props: ImageCopyOutputs) {
        return readImage(id, props, (image, snapshots, live) => {
            const inputs = inputsFromState(props, image);
            const outs = outputsFor(inputs, image, snapshots, reconcileDistribution(inputs, live), props.copiedTags ?? {});
            return { ...outs, complete: props.complete };
        });
    },

    async update(id: string, olds: ImageCopyOutputs, news: ImageCopyInputs) {
        const progress = progressFor(news.resourceUrn);
        const region = news.region;
        // A create that ran out of time or failed after the copy was made: finish its steps.
        const resuming = olds.complete === false || olds.state !== "available";
        try {
            if (resuming) progress(`resuming copy ${id}`);
            let ready: ImageObservation;
            try {
                ready = await waitForImage(region, id, { timeoutMs: minutes(news.imageTimeoutMinutes), onProgress: progress });
            } catch (err) {
                if (!(resuming && err instanceof WaitFailedError)) throw err;
                progress(`copy ${id} failed; deleting it and its snapshots`);
                await deleteImageAndSnapshots(region, id, olds.snapshotIds ?? []);
                throw new GoldenAmiError(
                    `${err.message} The failed copy and its snapshots were deleted. What to do: run \`pulumi refresh\` (which drops it from the stack), then \`pulumi up\` to copy again.`,
                    "WaitFailed",
                );
            }
            const snapshotIds = imageSnapshotIds(ready.image!);
            await updateImageLabels(region, id, snapshotIds, olds, news);
            let copiedTags = olds.copiedTags ?? {};
            if (resuming && olds.copiedTags === undefined) copiedTags = copiedTagsOf(news, (await describeImage(region, id)) ?? ready.image!);
            if ((olds.copyImageTags ?? false) !== news.copyImageTags) copiedTags = await syncCopiedTags(news, id, copiedTags);
            // A resumed create may have applied part of the distribution: start from what is live.
            const from = resuming ? await readDistribution(region, id, snapshotIds) : pickDistribution(olds);
            await applyDistribution(region, id, snapshotIds, from, pickDistribution(news));
            const fresh = (await describeImage(region, id)) ?? ready.image!;
            const outs = outputsFor(news, fresh, await describeSnapshots(region, snapshotIds), pickDistribution(news), copiedTags);
            return { outs: { ...outs, complete: true } };
        } catch (err) {
            throw explainAwsError(err, `updating image copy ${id} in ${region}`);
        }
    },

    async delete(id: string, props: ImageCopyOutputs) {
        const region = props.region ?? defaultRegion();
        progressFor(props.resourceUrn)(`deregistering image copy ${id} and deleting its snapshots`);
        await deleteImageAndSnapshots(region, id, props.snapshotIds ?? []);
    },
};

/** The CopyImage request for these inputs, without its ClientToken. */
function copyRequest(inputs: ImageCopyInputs): CopyImageRequest {
    const markers = markerTags(inputs);
    return {
        SourceImageId: inputs.sourceImageId,
        SourceRegion: inputs.sourceRegion,
        Name: inputs.name,
        Description: inputs.description,
        Encrypted: inputs.encrypted,
        KmsKeyId: inputs.kmsKeyId,
        CopyImageTags: inputs.copyImageTags,
        SnapshotCopyCompletionDurationMinutes: inputs.snapshotCopyCompletionDurationMinutes,
        TagSpecifications: [
            { ResourceType: "image", Tags: toTagList({ ...inputs.tags, ...markers }) },
            { ResourceType: "snapshot", Tags: toTagList({ ...inputs.snapshotTags, ...markers }) },
        ],
    };
}

/**
 * The copy this resource makes: one found by name that an earlier, interrupted run made
 * (adopted), or a new one (CopyImage).
 */
async function findOrCopyImage(inputs: ImageCopyInputs, progress: ProgressFn): Promise<{ imageId: string; adopted: boolean }> {
    const { region, name, sourceImageId, sourceRegion } = inputs;
    const existing = await adoptExisting(inputs);
    if (existing) {
        progress(`found copy ${existing} (${name}) from an earlier run; resuming`);
        return { imageId: existing, adopted: true };
    }
    progress(`copying image ${sourceImageId} from ${sourceRegion} to ${region} as ${name}`);
    try {
        return { imageId: await copyOnce(inputs), adopted: false };
    } catch (err) {
        if (awsErrorCode(err) === "InvalidAMIName.Duplicate") {
            // Another attempt made it between our look and our call.
            const raced = await adoptExisting(inputs);
            if (raced) return { imageId: raced, adopted: true };
        }
        throw explainAwsError(err, `copying image ${sourceImageId} from ${sourceRegion} to ${region} as "${name}"`);
    }
}

/**
 * CopyImage with a ClientToken derived from the request, so a repeated call (a retry after
 * the process died) returns the copy already made instead of making a second one.
 *
 * EC2 remembers a token well beyond the life of what it made: after `pulumi destroy`, the same
 * request would be answered with the ID of the deleted copy. Such an answer (an image that
 * is deregistered, or stays invisible) is stepped over with the next token of a deterministic
 * chain (salted with the stale ID), so a retry still follows the same chain to the same copy.
 */
async function copyOnce(inputs: ImageCopyInputs): Promise<string> {
    const { region } = inputs;
    const request = copyRequest(inputs);
    const stale: string[] = [];
    for (;;) {
        const ClientToken = copyClientToken({ region, request, ...(stale.length ? { after: stale } : {}) });
        const out = await ec2Client(region).send(new CopyImageCommand({ ...request, ClientToken }));
        const imageId = out.ImageId!;
        if (await isLiveImage(region, imageId)) return imageId;
        stale.push(imageId);
        if (stale.length >= MAX_TOKEN_GENERATIONS) {
            throw new GoldenAmiError(
                `golden-ami: CopyImage in ${region} kept answering with images that no longer exist (${stale.join(", ")}). What to do: run \`pulumi up\` again later.`,
                "StaleClientToken",
            );
        }
    }
}

/** True when the image is (or becomes within a short grace) visible and not deregistered. */
async function isLiveImage(region: string, imageId: string): Promise<boolean> {
    try {
        await waitUntil<Image | undefined>({
            description: `copy ${imageId} in ${region} to be visible`,
            timeoutMs: FRESH_COPY_GRACE_MS,
            delays: { minMs: 1_000, maxMs: 2_000 },
            isTransient: isNotFound,
            observe: async () => (await ec2Client(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0],
            judge: (image) =>
                !image ? { state: "pending", status: "not visible yet" }
                : image.State === "deregistered" ? { state: "failed", reason: "deregistered" }
                : { state: "done" },
        });
        return true;
    } catch (err) {
        if (err instanceof GoldenAmiError && (err.code === "WaitFailed" || err.code === "WaitTimeout")) return false;
        throw err;
    }
}

/**
 * A copy of this name that golden-ami made from this source (adopted), undefined when there is
 * none, and an error when the name belongs to an image golden-ami did not make from it.
 */
async function adoptExisting(inputs: ImageCopyInputs): Promise<string | undefined> {
    const [existing] = await findOwnImagesByName(inputs.region, inputs.name);
    if (!existing) return undefined;
    if (existing.ImageId === inputs.sourceImageId) {
        throw new GoldenAmiError(
            `golden-ami: "${inputs.name}" is the name of the source image ${inputs.sourceImageId} itself; a copy into its own region (${inputs.region}) needs another name. ` +
                `What to do: set name to something else, or leave it out for a derived one.`,
            "InvalidAMIName.Duplicate",
        );
    }
    const tags = fromTagList(existing.Tags);
    if (tags[MARKER_TAGS.managedBy] === MANAGED_BY_VALUE && tags[MARKER_TAGS.sourceImage] === sourceMarker(inputs)) {
        return existing.ImageId;
    }
    throw new GoldenAmiError(
        `golden-ami: an image named "${inputs.name}" already exists in ${inputs.region} (${existing.ImageId}) and golden-ami did not copy it from ${sourceMarker(inputs)}. ` +
            `What to do: choose another name, or leave name out for a derived one.`,
        "ForeignImage",
    );
}

/**
 * The steps after the copy is ready: for an adopted copy, the declared tags and description;
 * then the distribution (from nothing for a fresh copy, from what is live for an adopted one).
 */
async function completeCopy(
    inputs: ImageCopyInputs,
    imageId: string,
    ready: ImageObservation,
    progress: ProgressFn,
    adopted: boolean,
    copiedTags: TagMap,
): Promise<ImageCopyOutputs> {
    const { region } = inputs;
    let image = ready.image!;
    const snapshotIds = imageSnapshotIds(image);
    if (adopted) {
        // An earlier run made it, maybe with other tags or description: bring it to the declared ones.
        const live = outputsFor(inputs, image, ready.snapshots, {}, copiedTags);
        await updateTags(region, [imageId], live.tags ?? {}, inputs.tags ?? {});
        await updateTags(region, snapshotIds, live.snapshotTags ?? {}, inputs.snapshotTags ?? {});
        if ((inputs.description ?? "") !== (live.description ?? "")) {
            await ec2Client(region).send(new ModifyImageAttributeCommand({ ImageId: imageId, Description: { Value: inputs.description ?? "" } }));
        }
    }
    const distribution = pickDistribution(inputs);
    if (adopted || hasDistribution(distribution)) {
        progress(`applying the distribution settings of copy ${imageId}`);
        const from = adopted ? await readDistribution(region, imageId, snapshotIds) : {};
        await applyDistribution(region, imageId, snapshotIds, from, distribution);
    }
    let snapshots = ready.snapshots;
    if (adopted) {
        image = (await describeImage(region, imageId)) ?? image;
        snapshots = await describeSnapshots(region, snapshotIds);
    }
    return outputsFor(inputs, image, snapshots, distribution, copiedTags);
}

/** Turns copyImageTags on (copies the source's current tags) or off (removes the copied ones); returns the copied tags. */
async function syncCopiedTags(inputs: ImageCopyInputs, imageId: string, current: TagMap): Promise<TagMap> {
    let wanted: TagMap = {};
    if (inputs.copyImageTags) {
        const source = await describeImage(inputs.sourceRegion, inputs.sourceImageId);
        if (!source) {
            throw new GoldenAmiError(
                `golden-ami: copyImageTags: the source image ${inputs.sourceImageId} no longer exists in ${inputs.sourceRegion}, so its tags cannot be copied. What to do: set copyImageTags to false.`,
                "InvalidAMIID.NotFound",
            );
        }
        const own = withoutMarkerTags(fromTagList(source.Tags));
        wanted = minusKeys(Object.fromEntries(Object.entries(own).filter(([k]) => !k.toLowerCase().startsWith("aws:"))), inputs.tags);
    }
    // Declared tags are the user's even when the source has the same key: never removed here.
    await updateTags(inputs.region, [imageId], minusKeys(current, inputs.tags), wanted);
    return wanted;
}

/**
 * A copy of an AMI in a region (usually another one), waited for until it is available and every
 * snapshot has completed; shared, deprecated and protected like an InstanceImage.
 *
 * @example
 * const eu = new ImageCopy("web-golden-eu", {
 *     sourceImageId: image.imageId,
 *     sourceRegion: image.region,
 *     region: "eu-west-1",
 *     encrypted: true,
 *     kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
 *     launchAccounts: ["111111111111"],
 * });
 * export const euAmiId = eu.imageId;
 */
export class ImageCopy extends ImageResource {
    /** The image copied. */
    declare public readonly sourceImageId: pulumi.Output<string>;
    /** Region of the image copied. */
    declare public readonly sourceRegion: pulumi.Output<string>;
    /** Whether encryption was requested (a copy of an encrypted image is encrypted regardless; see blockDeviceMappings). */
    declare public readonly encrypted: pulumi.Output<boolean>;
    /** The KMS key requested for the copy. */
    declare public readonly kmsKeyId: pulumi.Output<string | undefined>;
    /** Tags copied from the source image (copyImageTags), reported apart from `tags`. */
    declare public readonly copiedTags: pulumi.Output<Record<string, string> | undefined>;

    constructor(name: string, args: ImageCopyArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "ImageCopy",
            name,
            args,
            { ...args, sourceRegion: args.sourceRegion, encrypted: args.encrypted, kmsKeyId: args.kmsKeyId, copiedTags: undefined },
            opts,
        );
    }
}
