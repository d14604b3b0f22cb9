/**
 * InstanceImage: turns an EC2 instance into an AMI the way the AMI lifecycle requires —
 * stop the instance (data integrity), create the image, and wait until the image is
 * available and every EBS snapshot behind it has completed.
 *
 * Nothing is lost: an image made but not yet finished is reported to Pulumi as a partial
 * create (kept in state, resumed by the next `pulumi up`), and an image made by a run that
 * died before it could report is found again by its deterministic name and marker tags
 * and adopted, never duplicated.
 */
import { CreateImageCommand, Image, Snapshot } from "@aws-sdk/client-ec2";
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
import { awsErrorCode, explainAwsError, GoldenAmiError } from "./ec2/errors";
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
    waitForImage,
    withoutMarkerTags,
} from "./ec2/images";
import { requireImageableInstance, startInstance, stopInstance, describeInstance } from "./ec2/instances";
import { BUILDER_READINESS_VALUES, BuilderReadiness, waitForBuilder } from "./ec2/readiness";
import { deterministicImageName, MANAGED_BY_VALUE, MARKER_TAGS, resourceNameFromUrn } from "./ec2/naming";
import { defaultRegion } from "./ec2/region";
import { minutes, WaitFailedError } from "./ec2/waiter";
import { diffImage, readImage } from "./image-provider";
import { hostKeys, PartialCreateError } from "./partial";
import { progressFor, ProgressFn } from "./progress";
import { ImageResource } from "./image-resource";

/** How one block device of the source instance appears in the image. */
export interface ImageBlockDevice {
    /** Device name on the instance, e.g. `/dev/xvda` or `/dev/sdf`. */
    deviceName: string;
    /** Leave this volume out of the image. */
    noDevice?: boolean;
    /** Size in GiB of the volume in the image; at least the source volume's size. */
    volumeSize?: number;
    /** EBS volume type in the image: gp3, gp2, io1, io2, st1, sc1 or standard. */
    volumeType?: string;
    /** Provisioned IOPS (io1, io2, gp3). */
    iops?: number;
    /** Throughput in MiB/s (gp3). */
    throughput?: number;
    /** Whether instances launched from the image delete this volume on termination. */
    deleteOnTermination?: boolean;
}

/** What the image should be done after. */
export type AfterImage = "stopped" | "running";

export const AFTER_IMAGE_VALUES: readonly AfterImage[] = ["stopped", "running"];
export const VOLUME_TYPES = ["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"] as const;

/** Default limits, in minutes. */
export const DEFAULT_STOP_TIMEOUT_MINUTES = 10;
export const DEFAULT_IMAGE_TIMEOUT_MINUTES = 60;
export const DEFAULT_PROVISIONING_TIMEOUT_MINUTES = 30;

export type { ImageBlockDeviceOutput } from "./ec2/images";

/** Arguments of an {@link InstanceImage}; the distribution arguments ({@link DistributionInputs}) are changed in place. */
export interface InstanceImageArgs extends DistributionInputs {
    /** The instance to image (`i-...`). It is stopped first unless `stopBeforeImage` is false. Changing it makes a new image. */
    instanceId: pulumi.Input<string>;
    /**
     * Region of the instance and the image. Default: the stack's `aws:region`, else
     * `AWS_REGION` / `AWS_DEFAULT_REGION`. Changing it makes a new image.
     */
    region?: pulumi.Input<string>;
    /**
     * AMI name (3-128 characters of letters, digits and `( ) [ ] space . / - ' @ _`; unique per
     * region and account). Default: the resource name plus a hash of what defines the image,
     * so a retried create finds the image it already made, and a rebuild gets a new name.
     * Changing it makes a new image.
     */
    name?: pulumi.Input<string>;
    /** AMI description (at most 255 characters). Updated in place. */
    description?: pulumi.Input<string>;
    /** Tags of the image. Updated in place (exactly the difference). */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Tags of the image's EBS snapshots, set in the same CreateImage call. Updated in place. */
    snapshotTags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Overrides of the instance's block devices in the image: leave out or resize volumes. Changing them makes a new image. */
    blockDeviceMappings?: pulumi.Input<pulumi.Input<ImageBlockDevice>[]>;
    /**
     * Stop the instance before imaging (default true): the only way to get a consistent file
     * system. `false` images the running instance with NoReboot — crash-consistent only, like
     * pulling the power cord. Changing it makes a new image.
     */
    stopBeforeImage?: pulumi.Input<boolean>;
    /** The instance's state once the image exists: `"stopped"` (default) or `"running"` (started again). */
    afterImage?: pulumi.Input<AfterImage>;
    /**
     * Wait, before imaging, until the builder is done customising: `"stopped"` = until it
     * powers itself off at the end of its user data (`shutdown -h now` with shutdown behaviour
     * "stop"); `"status-ok"` = until it runs with both status checks passed; `"none"` (default) =
     * image it as it is. On timeout the error shows the tail of its console output.
     */
    waitForBuilder?: pulumi.Input<BuilderReadiness>;
    /** How long the builder may take to become ready (`waitForBuilder`), in minutes. Default 30. */
    provisioningTimeoutMinutes?: pulumi.Input<number>;
    /** How long stopping (or starting) the instance may take, in minutes. Default 10. */
    stopTimeoutMinutes?: pulumi.Input<number>;
    /**
     * How long the image may take to become available with all snapshots completed, in minutes.
     * Default 60. When it runs out, the image is kept in state and the next `pulumi up` resumes waiting.
     */
    imageTimeoutMinutes?: pulumi.Input<number>;
    /**
     * Take an existing AMI of this account under management instead of creating one — golden-ami's
     * equivalent of `pulumi import` (Pulumi cannot import dynamic-provider resources, pulumi/pulumi#16175).
     * The image is then updated, and deleted on destroy, like one golden-ami made.
     */
    adoptImageId?: pulumi.Input<string>;
}

/** The normalised inputs the provider works with (after `check`). */
export interface InstanceImageInputs extends DistributionArgs {
    instanceId: string;
    region: string;
    name: string;
    description?: string;
    tags?: TagMap;
    snapshotTags?: TagMap;
    blockDeviceMappings?: ImageBlockDevice[];
    stopBeforeImage: boolean;
    afterImage: AfterImage;
    waitForBuilder: BuilderReadiness;
    provisioningTimeoutMinutes: number;
    stopTimeoutMinutes: number;
    imageTimeoutMinutes: number;
    adoptImageId?: string;
    /** Set by the resource class: its own URN, so progress shows on its row. */
    resourceUrn?: string;
}

/** Everything the provider keeps in state: the inputs plus what EC2 reports about the image. */
export interface InstanceImageOutputs extends Omit<InstanceImageInputs, "blockDeviceMappings">, ImageFacts {
    sourceInstanceId: string;
    /** The `blockDeviceMappings` input, kept to diff against. */
    requestedBlockDeviceMappings?: ImageBlockDevice[];
    /** False while a step after CreateImage is unfinished (the next `pulumi up` finishes it). */
    complete?: boolean;
}

/** Inputs whose change needs a new image. */
const REPLACE_KEYS = ["instanceId", "region", "name", "blockDeviceMappings", "stopBeforeImage"] as const;
/** Inputs changed in place. */
const UPDATE_KEYS = [
    "description",
    "tags",
    "snapshotTags",
    "afterImage",
    "waitForBuilder",
    "provisioningTimeoutMinutes",
    "stopTimeoutMinutes",
    "imageTimeoutMinutes",
] as const;
/** AWS allows 50 tags per resource; golden-ami uses up to 2 of them. */
const MAX_USER_TAGS = 48;

/** What defines the image: its hash is part of the default name. */
function imageIdentity(i: Pick<InstanceImageInputs, "instanceId" | "region" | "blockDeviceMappings" | "stopBeforeImage">): unknown {
    return { instanceId: i.instanceId, region: i.region, blockDeviceMappings: i.blockDeviceMappings ?? [], stopBeforeImage: i.stopBeforeImage };
}


function markerTags(instanceId: string): TagMap {
    return { [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.sourceInstance]: instanceId };
}

/**
 * State from the inputs and the live image. Create and read both use it, so a refresh
 * right after a create reports no change. `distribution` is what is live (create/update: the
 * inputs just applied; read: {@link reconcileDistribution} of state and EC2).
 */
function outputsFor(inputs: InstanceImageInputs, image: Image, snapshots: Snapshot[], distribution: DistributionArgs): InstanceImageOutputs {
    const { blockDeviceMappings, ...rest } = withoutDistribution(inputs);
    const snapshotIds = imageSnapshotIds(image);
    const firstSnapshot = snapshots.find((s) => s.SnapshotId === snapshotIds[0]);
    const outs: InstanceImageOutputs = {
        ...rest,
        ...distribution,
        name: image.Name ?? inputs.name,
        description: image.Description || undefined,
        tags: nonEmpty(withoutMarkerTags(fromTagList(image.Tags))),
        snapshotTags: firstSnapshot ? nonEmpty(withoutMarkerTags(fromTagList(firstSnapshot.Tags))) : inputs.snapshotTags,
        sourceInstanceId: inputs.instanceId,
        ...imageFacts(image),
        requestedBlockDeviceMappings: blockDeviceMappings,
    };
    return JSON.parse(JSON.stringify(outs)); // drop undefined: state holds no nulls to diff against
}

/** Normalises a block device override list for comparison and for CreateImage. */
function normaliseBlockDevices(list: ImageBlockDevice[] | undefined): ImageBlockDevice[] | undefined {
    if (!list || list.length === 0) return undefined;
    return [...list]
        .map((d) => JSON.parse(JSON.stringify(d)) as ImageBlockDevice)
        .sort((a, b) => (a.deviceName < b.deviceName ? -1 : a.deviceName > b.deviceName ? 1 : 0));
}

function createImageBlockDevices(list: ImageBlockDevice[] | undefined) {
    return list?.map((d) =>
        d.noDevice
            ? { DeviceName: d.deviceName, NoDevice: "" }
            : {
                  DeviceName: d.deviceName,
                  Ebs: {
                      VolumeSize: d.volumeSize,
                      VolumeType: d.volumeType as never,
                      Iops: d.iops,
                      Throughput: d.throughput,
                      DeleteOnTermination: d.deleteOnTermination,
                  },
              },
    );
}

/** The provider (runs in Pulumi's dynamic-provider process; loaded there by name, see shim.ts). */
export const instanceImageProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Partial<InstanceImageInputs>, news: Record<string, unknown>) {
        const c = new Checker();
        const n = news as Partial<InstanceImageInputs> & Record<string, unknown>;
        if (c.required("instanceId", n.instanceId, "the ID of the instance to image (i-...)")) c.id("instanceId", n.instanceId, "instance");
        c.region("region", n.region);
        c.amiName("name", n.name);
        c.maxLength("description", n.description, 255);
        c.tags("tags", n.tags, MAX_USER_TAGS);
        c.tags("snapshotTags", n.snapshotTags, MAX_USER_TAGS);
        c.boolean("stopBeforeImage", n.stopBeforeImage);
        c.oneOf("afterImage", n.afterImage, AFTER_IMAGE_VALUES);
        c.oneOf("waitForBuilder", n.waitForBuilder, BUILDER_READINESS_VALUES);
        c.positiveNumber("provisioningTimeoutMinutes", n.provisioningTimeoutMinutes, "minutes");
        c.positiveNumber("stopTimeoutMinutes", n.stopTimeoutMinutes, "minutes");
        c.positiveNumber("imageTimeoutMinutes", n.imageTimeoutMinutes, "minutes");
        c.id("adoptImageId", n.adoptImageId, "image");
        c.failures.push(...checkDistribution(n, Date.now(), olds));
        if (n.blockDeviceMappings !== undefined && !isUnknown(n.blockDeviceMappings)) {
            if (!Array.isArray(n.blockDeviceMappings)) c.fail("blockDeviceMappings", "blockDeviceMappings must be a list");
            else {
                const seen = new Set<string>();
                n.blockDeviceMappings.forEach((d, i) => {
                    const p = `blockDeviceMappings[${i}]`;
                    if (c.required(`${p}.deviceName`, d?.deviceName, "the device name on the instance, e.g. /dev/sdf") && c.string(`${p}.deviceName`, d.deviceName)) {
                        if (!/^\/dev\/[a-z0-9]+$|^xvd[a-z]+$/.test(d.deviceName)) c.fail(`${p}.deviceName`, `${p}.deviceName: "${d.deviceName}" is not a device name like /dev/sdf or /dev/xvda`);
                        if (seen.has(d.deviceName)) c.fail(`${p}.deviceName`, `${p}.deviceName: "${d.deviceName}" is listed twice`);
                        seen.add(d.deviceName);
                    }
                    c.boolean(`${p}.noDevice`, d?.noDevice);
                    c.integerInRange(`${p}.volumeSize`, d?.volumeSize, 1, 65536);
                    c.oneOf(`${p}.volumeType`, d?.volumeType, VOLUME_TYPES);
                    c.integerInRange(`${p}.iops`, d?.iops, 100, 256000);
                    c.integerInRange(`${p}.throughput`, d?.throughput, 125, 2000);
                    c.boolean(`${p}.deleteOnTermination`, d?.deleteOnTermination);
                    if (d?.noDevice && (d.volumeSize !== undefined || d.volumeType !== undefined)) {
                        c.fail(p, `${p}: a noDevice entry leaves the volume out; remove volumeSize/volumeType from it`);
                    }
                });
            }
        }

        let region = n.region;
        if (region === undefined) {
            try {
                region = defaultRegion();
            } catch (err) {
                c.fail("region", (err as Error).message);
            }
        }
        const inputs: Record<string, unknown> = {
            ...news,
            region,
            stopBeforeImage: n.stopBeforeImage ?? true,
            afterImage: n.afterImage ?? "stopped",
            waitForBuilder: n.waitForBuilder ?? "none",
            provisioningTimeoutMinutes: n.provisioningTimeoutMinutes ?? DEFAULT_PROVISIONING_TIMEOUT_MINUTES,
            stopTimeoutMinutes: n.stopTimeoutMinutes ?? DEFAULT_STOP_TIMEOUT_MINUTES,
            imageTimeoutMinutes: n.imageTimeoutMinutes ?? DEFAULT_IMAGE_TIMEOUT_MINUTES,
        };
        if (Array.isArray(n.blockDeviceMappings)) inputs.blockDeviceMappings = normaliseBlockDevices(n.blockDeviceMappings);
        if (inputs.blockDeviceMappings === undefined) delete inputs.blockDeviceMappings;
        if (n.name === undefined) {
            const identity = imageIdentity(inputs as unknown as InstanceImageInputs);
            if (!containsUnknown(identity)) {
                const derived = deterministicImageName(resourceNameFromUrn(n.resourceUrn), identity);
                // A renamed resource (same identity) keeps the name its image already has.
                const keep = olds.name && olds.name.endsWith(derived.slice(derived.lastIndexOf("-")));
                inputs.name = keep ? olds.name : derived;
            }
        }
        return { inputs, failures: c.failures };
    },

    async diff(_id: string, olds: InstanceImageOutputs, news: InstanceImageInputs) {
        const old = { ...olds, blockDeviceMappings: olds.requestedBlockDeviceMappings } as unknown as Record<string, unknown>;
        const adopting = news.adoptImageId !== undefined && news.adoptImageId !== olds.imageId;
        return diffImage(olds, old, news, { replace: REPLACE_KEYS, update: UPDATE_KEYS }, adopting ? ["adoptImageId"] : []);
    },

    async create(raw: Record<string, unknown>) {
        const inputs = raw as unknown as InstanceImageInputs;
        const progress = progressFor(inputs.resourceUrn);
        const { region } = inputs;
        if (inputs.adoptImageId && !(await describeImage(region, inputs.adoptImageId))) {
            throw new GoldenAmiError(
                `golden-ami: adoptImageId ${inputs.adoptImageId} does not exist in ${region}. What to do: check the ID and the region.`,
                "InvalidAMIID.NotFound",
            );
        }
        const made = inputs.adoptImageId ? { imageId: inputs.adoptImageId, adopted: true } : await findOrCreateImage(inputs, progress);
        const imageId = made.imageId;

        let ready: ImageObservation;
        try {
            ready = await waitForImage(region, imageId, { timeoutMs: minutes(inputs.imageTimeoutMinutes), onProgress: progress });
        } catch (err) {
            // An adopted image is the user's: never deleted or recorded because it is not ready.
            if (inputs.adoptImageId) throw err;
            if (err instanceof WaitFailedError) {
                // A failed image is useless: remove it and its snapshots now (nothing orphaned), then fail.
                progress(`image ${imageId} failed; deleting it and its snapshots`);
                await deleteImageAndSnapshots(region, imageId);
                throw err;
            }
            // The image exists: record it, so the next `pulumi up` resumes and destroy removes it.
            throw new PartialCreateError(imageId, { ...hostKeys(raw), ...stateBeforeReady(inputs, imageId, "pending") }, err as Error);
        }

        try {
            const outs = await completeImage(inputs, imageId, ready, progress, made.adopted);
            return { id: imageId, outs: { ...outs, complete: true } };
        } catch (err) {
            if (inputs.adoptImageId) throw err;
            // The image is good; only a later step failed. Keep it, and let the next `pulumi up` finish the steps
            // (distribution included: the resume reads what is live and applies the rest).
            const outs = outputsFor(inputs, ready.image!, ready.snapshots, {});
            throw new PartialCreateError(imageId, { ...hostKeys(raw), ...outs, complete: false }, err as Error);
        }
    },

    async read(id: string, props: InstanceImageOutputs) {
        return readImage(id, props, (image, snapshots, live) => {
            const inputs = inputsFromState(props, image);
            return { ...outputsFor(inputs, image, snapshots, reconcileDistribution(inputs, live)), complete: props.complete };
        });
    },

    async update(id: string, olds: InstanceImageOutputs, news: InstanceImageInputs) {
        const progress = progressFor(news.resourceUrn);
        const region = news.region;
        try {
            // A create that ran out of time or failed after the image was made: finish its steps.
            const resuming = olds.complete === false || olds.state !== "available";
            if (resuming) progress(`resuming image ${id}`);
            const ready = await waitForImage(region, id, { timeoutMs: minutes(news.imageTimeoutMinutes), onProgress: progress });
            const image = ready.image!;
            const snapshotIds = imageSnapshotIds(image);
            await updateImageLabels(region, id, snapshotIds, olds, news);
            // A resumed create may have applied part of the distribution: start from what is live.
            const from = resuming ? await readDistribution(region, id, snapshotIds) : pickDistribution(olds);
            await applyDistribution(region, id, snapshotIds, from, pickDistribution(news));
            if (resuming && !news.adoptImageId) await applyAfterImage(news, progress, false);
            else if (olds.afterImage !== news.afterImage) await applyAfterImage(news, progress, true);
            const fresh = (await describeImage(region, id)) ?? image;
            const outs = outputsFor(news, fresh, await describeSnapshots(region, snapshotIds), pickDistribution(news));
            return { outs: { ...outs, complete: true } };
        } catch (err) {
            throw explainAwsError(err, `updating image ${id} in ${region}`);
        }
    },

    async delete(id: string, props: InstanceImageOutputs) {
        const region = props.region ?? defaultRegion();
        progressFor(props.resourceUrn)(`deregistering image ${id} and deleting its snapshots`);
        await deleteImageAndSnapshots(region, id, props.snapshotIds ?? []);
    },
};

/** State recorded for an image that exists but is not ready yet. */
function stateBeforeReady(inputs: InstanceImageInputs, imageId: string, state: string): InstanceImageOutputs {
    // No distribution yet: it is applied once the image is ready (the resume reads what is live).
    const { blockDeviceMappings, ...rest } = withoutDistribution(inputs);
    return JSON.parse(JSON.stringify({
        ...rest,
        imageId,
        sourceInstanceId: inputs.instanceId,
        snapshotIds: [],
        state,
        complete: false,
        blockDeviceMappings: [],
        requestedBlockDeviceMappings: blockDeviceMappings,
    }));
}

/**
 * Inputs as recorded in state (for read/refresh), with what only the image knows. Stored
 * values pass through as they are (no defaults invented), so a refresh reports no change.
 */
function inputsFromState(props: InstanceImageOutputs, image: Image): InstanceImageInputs {
    return {
        instanceId: props.instanceId ?? props.sourceInstanceId,
        region: props.region,
        name: image.Name ?? props.name,
        description: props.description,
        tags: props.tags,
        snapshotTags: props.snapshotTags,
        blockDeviceMappings: props.requestedBlockDeviceMappings,
        stopBeforeImage: props.stopBeforeImage,
        afterImage: props.afterImage,
        waitForBuilder: props.waitForBuilder,
        provisioningTimeoutMinutes: props.provisioningTimeoutMinutes,
        stopTimeoutMinutes: props.stopTimeoutMinutes,
        imageTimeoutMinutes: props.imageTimeoutMinutes,
        adoptImageId: props.adoptImageId,
        resourceUrn: props.resourceUrn,
        ...pickDistribution(props),
    };
}

/**
 * The image this resource makes: one found by name that an earlier, interrupted run made
 * (adopted), or a new one (stop the instance, CreateImage).
 */
async function findOrCreateImage(inputs: InstanceImageInputs, progress: ProgressFn): Promise<{ imageId: string; adopted: boolean }> {
    const { region, name, instanceId } = inputs;
    const adopted = await adoptExisting(inputs);
    if (adopted) {
        progress(`found image ${adopted} (${name}) from an earlier run; resuming`);
        return { imageId: adopted, adopted: true };
    }
    await requireImageableInstance(region, instanceId);
    // Never image mid-customisation: first let the builder finish (when asked to).
    await waitForBuilder(region, instanceId, inputs.waitForBuilder ?? "none", {
        timeoutMs: minutes(inputs.provisioningTimeoutMinutes ?? DEFAULT_PROVISIONING_TIMEOUT_MINUTES),
        onProgress: progress,
    });
    const waitOptions = { timeoutMs: minutes(inputs.stopTimeoutMinutes), onProgress: progress };
    if (inputs.stopBeforeImage) await stopInstance(region, instanceId, waitOptions);

    progress(`creating image ${name} from instance ${instanceId}`);
    const markers = markerTags(instanceId);
    try {
        const out = await ec2Client(region).send(
            new CreateImageCommand({
                InstanceId: instanceId,
                Name: name,
                Description: inputs.description,
                NoReboot: !inputs.stopBeforeImage,
                BlockDeviceMappings: createImageBlockDevices(inputs.blockDeviceMappings),
                TagSpecifications: [
                    { ResourceType: "image", Tags: toTagList({ ...inputs.tags, ...markers }) },
                    { ResourceType: "snapshot", Tags: toTagList({ ...inputs.snapshotTags, ...markers }) },
                ],
            }),
        );
        return { imageId: out.ImageId!, adopted: false };
    } catch (err) {
        if (awsErrorCode(err) === "InvalidAMIName.Duplicate") {
            // Another attempt made it between our look and our call.
            const raced = await adoptExisting(inputs);
            if (raced) return { imageId: raced, adopted: true };
        }
        throw explainAwsError(err, `creating image "${name}" from instance ${instanceId} in ${region}`);
    }
}

/**
 * An image of this name that golden-ami made from this instance (adopted), undefined when
 * there is none, and an error when the name belongs to an image golden-ami did not make.
 */
async function adoptExisting(inputs: InstanceImageInputs): Promise<string | undefined> {
    const [existing] = await findOwnImagesByName(inputs.region, inputs.name);
    if (!existing) return undefined;
    const tags = fromTagList(existing.Tags);
    if (tags[MARKER_TAGS.managedBy] === MANAGED_BY_VALUE && tags[MARKER_TAGS.sourceInstance] === inputs.instanceId) {
        return existing.ImageId;
    }
    throw new GoldenAmiError(
        `golden-ami: an image named "${inputs.name}" already exists in ${inputs.region} (${existing.ImageId}) and golden-ami did not make it from ${inputs.instanceId}. ` +
            `What to do: choose another name, or take that image under management with adoptImageId: "${existing.ImageId}" ` +
            `(golden-ami's equivalent of pulumi import).`,
        "ForeignImage",
    );
}

/**
 * The steps after the image is ready: after-image instance state, or (adopted) declared tags;
 * then the distribution (from nothing for a fresh image, from what is live for an adopted one).
 */
async function completeImage(
    inputs: InstanceImageInputs,
    imageId: string,
    ready: ImageObservation,
    progress: ProgressFn,
    adopted: boolean,
): Promise<InstanceImageOutputs> {
    const { region } = inputs;
    let image = ready.image!;
    if (inputs.adoptImageId) {
        // Bring the adopted image to the declared tags/description (exactly the difference).
        const snapshotIds = imageSnapshotIds(image);
        const live = outputsFor(inputs, image, ready.snapshots, {});
        // An undeclared description is left as it is.
        await updateImageLabels(region, imageId, snapshotIds, live, { ...inputs, description: inputs.description ?? live.description });
        image = (await describeImage(region, imageId)) ?? image;
    } else {
        await applyAfterImage(inputs, progress, false);
    }
    const distribution = pickDistribution(inputs);
    if (adopted || hasDistribution(distribution)) {
        const snapshotIds = imageSnapshotIds(image);
        progress(`applying the distribution settings of image ${imageId}`);
        const from = adopted ? await readDistribution(region, imageId, snapshotIds) : {};
        await applyDistribution(region, imageId, snapshotIds, from, distribution);
    }
    const snapshots = await describeSnapshots(region, imageSnapshotIds(image));
    return outputsFor({ ...inputs, name: image.Name ?? inputs.name }, image, snapshots, distribution);
}

/** Puts the source instance into the declared after-image state. */
async function applyAfterImage(inputs: InstanceImageInputs, progress: ProgressFn, onUpdate: boolean): Promise<void> {
    const options = { timeoutMs: minutes(inputs.stopTimeoutMinutes), onProgress: progress };
    if (onUpdate) {
        // The builder may be gone by now; an update then has nothing to start or stop.
        const state = (await describeInstance(inputs.region, inputs.instanceId))?.State?.Name;
        if (!state || state === "terminated" || state === "shutting-down") return;
    }
    if (inputs.afterImage === "running") await startInstance(inputs.region, inputs.instanceId, options);
    else if (onUpdate) await stopInstance(inputs.region, inputs.instanceId, options);
}

/**
 * An AMI made from an EC2 instance: stopped first (unless told otherwise), imaged, and
 * waited for until the image is available and every snapshot has completed.
 *
 * @example
 * const image = new InstanceImage("web-golden", {
 *     instanceId: builder.id,
 *     tags: { team: "platform" },
 * });
 * export const amiId = image.imageId;
 */
export class InstanceImage extends ImageResource {
    /** The instance the image was made from. */
    declare public readonly sourceInstanceId: pulumi.Output<string>;

    constructor(name: string, args: InstanceImageArgs, opts?: pulumi.CustomResourceOptions) {
        // blockDeviceMappings is an input (overrides) and an output (the image's mappings).
        super("InstanceImage", name, args, { ...args, blockDeviceMappings: args.blockDeviceMappings, sourceInstanceId: undefined }, opts);
    }
}
