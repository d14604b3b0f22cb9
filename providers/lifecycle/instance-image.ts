/**
 * The InstanceImage kind of the image lifecycle: an AMI made from an EC2 instance. Its own
 * part: wait until the builder is done customising, stop it (never image a disk mid-write),
 * CreateImage; afterwards put the instance into the declared after-image state (stopped,
 * running again, or terminated: the end of a builder golden-ami launched).
 */
import type { Image } from "@aws-sdk/client-ec2";
import { LINEAGE_TAGS } from "../core/lineage";
import { MARKER_TAGS } from "../core/naming";
import {
    AFTER_IMAGE_VALUES,
    AfterImage,
    BUILDER_READINESS_VALUES,
    BuilderReadiness,
    DEFAULT_PROVISIONING_TIMEOUT_MINUTES,
    DEFAULT_STOP_TIMEOUT_MINUTES,
    ImageBlockDevice,
    SUCCESS_MARKER,
    VerifySettings,
    VOLUME_TYPES,
} from "../core/options";
import { deleteImageAndSnapshots } from "../ec2/image-delete";
import { imageSnapshotIds } from "../ec2/images";
import { verifyImage, VerificationFailedError } from "../ec2/verification";
import { ImageRejectedError } from "./partial";
import { createImage } from "../ec2/create-image";
import { describeInstance, requireImageableInstance, startInstance, stopInstance, terminateInstance } from "../ec2/instances";
import { waitForBuilder } from "../ec2/readiness";
import { minutes } from "../ec2/waiter";
import { Checker, isUnknown } from "./checks";
import { ImageInputs, ImageKind, ImageState, StepContext } from "./image-kind";

/** The normalised inputs the provider works with (after `check`). */
export interface InstanceImageInputs extends ImageInputs {
    instanceId: string;
    blockDeviceMappings?: ImageBlockDevice[];
    stopBeforeImage: boolean;
    afterImage: AfterImage;
    waitForBuilder: BuilderReadiness;
    provisioningTimeoutMinutes: number;
    stopTimeoutMinutes: number;
    /** Test the new image with an instance of it before it is finished (copied, shared). */
    verify?: VerifySettings;
    /** The account the instance was launched in (a builder's), named when the instance is not visible. */
    instanceAccountId?: string;
}

/** Everything the provider keeps in state: the inputs plus what EC2 reports about the image. */
export interface InstanceImageOutputs extends Omit<InstanceImageInputs, "blockDeviceMappings">, ImageState {
    sourceInstanceId: string;
    /** The `blockDeviceMappings` input, kept to diff against (`blockDeviceMappings` is the image's). */
    requestedBlockDeviceMappings?: ImageBlockDevice[];
}

/** Normalises a block device override list for comparison and for CreateImage. */
function normaliseBlockDevices(list: ImageBlockDevice[] | undefined): ImageBlockDevice[] | undefined {
    if (!list || list.length === 0) return undefined;
    return [...list]
        .map((d) => JSON.parse(JSON.stringify(d)) as ImageBlockDevice)
        .sort((a, b) => (a.deviceName < b.deviceName ? -1 : a.deviceName > b.deviceName ? 1 : 0));
}

function checkBlockDevices(c: Checker, value: unknown): void {
    if (value === undefined || isUnknown(value)) return;
    if (!Array.isArray(value)) {
        c.fail("blockDeviceMappings", "blockDeviceMappings must be a list");
        return;
    }
    const seen = new Set<string>();
    value.forEach((d, i) => {
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

/** Puts the source instance into the declared after-image state; on update only if it still exists. */
async function applyAfterImage(inputs: InstanceImageInputs, step: StepContext, onUpdate: boolean): Promise<void> {
    const options = { timeoutMs: minutes(inputs.stopTimeoutMinutes), onProgress: step.progress, clock: step.clock, timeScale: step.timeScale };
    if (onUpdate) {
        const state = (await describeInstance(inputs.region, inputs.instanceId))?.State?.Name;
        if (!state || state === "terminated" || state === "shutting-down") return;
    }
    if (inputs.afterImage === "terminated") {
        // A builder golden-ami launched: once its image is available, nothing of it is left billing.
        step.progress(`image available; terminating builder ${inputs.instanceId}`);
        await terminateInstance(inputs.region, inputs.instanceId, options);
    } else if (inputs.afterImage === "running") await startInstance(inputs.region, inputs.instanceId, options);
    else if (onUpdate) await stopInstance(inputs.region, inputs.instanceId, options);
}

/** The verification settings' checks: a test script must have a way to say it passed. */
export function checkVerify(c: Checker, property: string, v: unknown): void {
    if (v === undefined || v === null || isUnknown(v)) return;
    if (typeof v !== "object" || Array.isArray(v)) {
        c.fail(property, `${property} must be an object { instanceType?, subnetId?, vpcSecurityGroupIds?, userData?, timeoutMinutes? }`);
        return;
    }
    const s = v as Record<string, unknown>;
    c.string(`${property}.instanceType`, s.instanceType);
    c.id(`${property}.subnetId`, s.subnetId, "subnet");
    if (Array.isArray(s.vpcSecurityGroupIds)) s.vpcSecurityGroupIds.forEach((id, i) => c.id(`${property}.vpcSecurityGroupIds[${i}]`, id, "security group"));
    c.positiveNumber(`${property}.timeoutMinutes`, s.timeoutMinutes, "minutes");
    if (c.string(`${property}.userData`, s.userData) && !s.userData.includes(SUCCESS_MARKER)) {
        c.fail(
            `${property}.userData`,
            `${property}.userData: a test script must print ${SUCCESS_MARKER} and power the instance off when the test passes ` +
                `(e.g. \`curl -fs localhost && echo ${SUCCESS_MARKER}; shutdown -h now\`); without it golden-ami cannot tell a pass. ` +
                `Leave userData out to judge by the status checks alone.`,
        );
    }
}

/** Runs the verification gate; a failed image is deleted (and the builder ended as declared) before the error. */
async function verifyOrReject(inputs: InstanceImageInputs, image: Image, step: StepContext): Promise<void> {
    const waits = { onProgress: step.progress, clock: step.clock, timeScale: step.timeScale };
    try {
        await verifyImage(inputs.region, image.ImageId!, inputs.name, inputs.verify!, waits);
    } catch (err) {
        if (!(err instanceof VerificationFailedError)) throw err;
        // Nothing of a rejected build is left: the builder as declared (terminated) and the image itself.
        if (inputs.afterImage === "terminated") await applyAfterImage(inputs, step, false);
        step.progress(`deleting image ${image.ImageId} and its snapshots: it failed its verification`);
        await deleteImageAndSnapshots(inputs.region, image.ImageId!, imageSnapshotIds(image));
        throw new ImageRejectedError(`${err.message}\nThe image and its snapshots were deleted; nothing was copied or shared.`);
    }
}

export const instanceImageKind: ImageKind<InstanceImageInputs, InstanceImageOutputs> = {
    noun: "image",
    replaceKeys: ["instanceId", "region", "name", "blockDeviceMappings", "stopBeforeImage"],
    updateKeys: ["description", "tags", "snapshotTags", "afterImage", "waitForBuilder", "provisioningTimeoutMinutes", "stopTimeoutMinutes", "imageTimeoutMinutes", "verify", "instanceAccountId"],

    check(c: Checker, n: Record<string, unknown>) {
        if (c.required("instanceId", n.instanceId, "the ID of the instance to image (i-...)")) c.id("instanceId", n.instanceId, "instance");
        c.boolean("stopBeforeImage", n.stopBeforeImage);
        c.oneOf("afterImage", n.afterImage, AFTER_IMAGE_VALUES);
        c.oneOf("waitForBuilder", n.waitForBuilder, BUILDER_READINESS_VALUES);
        c.positiveNumber("provisioningTimeoutMinutes", n.provisioningTimeoutMinutes, "minutes");
        c.positiveNumber("stopTimeoutMinutes", n.stopTimeoutMinutes, "minutes");
        checkBlockDevices(c, n.blockDeviceMappings);
        checkVerify(c, "verify", n.verify);
        const own: Record<string, unknown> = {
            stopBeforeImage: n.stopBeforeImage ?? true,
            afterImage: n.afterImage ?? "stopped",
            waitForBuilder: n.waitForBuilder ?? "none",
            provisioningTimeoutMinutes: n.provisioningTimeoutMinutes ?? DEFAULT_PROVISIONING_TIMEOUT_MINUTES,
            stopTimeoutMinutes: n.stopTimeoutMinutes ?? DEFAULT_STOP_TIMEOUT_MINUTES,
        };
        if (Array.isArray(n.blockDeviceMappings)) own.blockDeviceMappings = normaliseBlockDevices(n.blockDeviceMappings as ImageBlockDevice[]);
        return own;
    },

    identity: (i) => ({ instanceId: i.instanceId, region: i.region, blockDeviceMappings: i.blockDeviceMappings ?? [], stopBeforeImage: i.stopBeforeImage }),
    origin: (i) => ({ [MARKER_TAGS.sourceInstance]: i.instanceId }),
    originText: (i) => `make it from ${i.instanceId}`,
    foreignAdvice: (existing: Image) =>
        `choose another name, or take that image under management with adoptImageId: "${existing.ImageId}" (golden-ami's equivalent of pulumi import).`,
    making: (i) => `creating image "${i.name}" from instance ${i.instanceId} in ${i.region}`,

    async make(inputs, imageTags, snapshotTags, step) {
        const { region, instanceId } = inputs;
        const waits = { onProgress: step.progress, clock: step.clock, timeScale: step.timeScale };
        const instance = await requireImageableInstance(region, instanceId, inputs.instanceAccountId);
        // Lineage: the AMI the builder was launched from (region/ami-id), on the image and its snapshots.
        if (instance.ImageId) {
            const source = { [LINEAGE_TAGS.source]: `${region}/${instance.ImageId}` };
            imageTags = { ...imageTags, ...source };
            snapshotTags = { ...snapshotTags, ...source };
        }
        // Never image mid-customisation: first let the builder finish (when asked to).
        await waitForBuilder(region, instanceId, inputs.waitForBuilder ?? "none", {
            ...waits,
            timeoutMs: minutes(inputs.provisioningTimeoutMinutes ?? DEFAULT_PROVISIONING_TIMEOUT_MINUTES),
        });
        if (inputs.stopBeforeImage) await stopInstance(region, instanceId, { ...waits, timeoutMs: minutes(inputs.stopTimeoutMinutes) });
        step.progress(`creating image ${inputs.name} from instance ${instanceId}`);
        // The build time goes with the call that makes the image (no tagging after it, on the way to its copies).
        // CreateImage has no ClientToken to keep equal: a retried create adopts the first image by name.
        const builtAt: Record<string, string> = imageTags[LINEAGE_TAGS.lineage] !== undefined ? { [LINEAGE_TAGS.builtAt]: new Date(step.clock.now()).toISOString() } : {};
        return createImage(region, {
            instanceId,
            name: inputs.name,
            description: inputs.description,
            noReboot: !inputs.stopBeforeImage,
            blockDeviceMappings: inputs.blockDeviceMappings,
            imageTags: { ...imageTags, ...builtAt },
            snapshotTags: { ...snapshotTags, ...builtAt },
        });
    },

    async finish(inputs, image, step, change) {
        // A handed-over image (adoptImageId) has no builder of ours: its instance is never
        // started, stopped or terminated, on create and on every later update of afterImage.
        if (inputs.adoptImageId !== undefined) return {};
        if (!change || change.resuming) {
            // The gate comes before the after-image step and before the lifecycle copies' source exists (copies and sharing wait for it).
            if (inputs.verify) await verifyOrReject(inputs, image, step);
            await applyAfterImage(inputs, step, false);
        } else if (change.olds.afterImage !== inputs.afterImage) await applyAfterImage(inputs, step, true);
        return {};
    },

    outputs(shared, inputs) {
        return { ...(shared as unknown as InstanceImageOutputs), sourceInstanceId: inputs.instanceId, requestedBlockDeviceMappings: inputs.blockDeviceMappings };
    },

    asInputs: (state) => ({ ...state, instanceId: state.instanceId ?? state.sourceInstanceId, blockDeviceMappings: state.requestedBlockDeviceMappings }),
    pending: (inputs) => ({ sourceInstanceId: inputs.instanceId, requestedBlockDeviceMappings: inputs.blockDeviceMappings }),
};
