/**
 * The Builder's provider (provider process): an ephemeral EC2 instance that golden-ami
 * launches from a base image, lets customise itself, and hands to an InstanceImage.
 *
 *   check → launch or find (ClientToken from the recipe) → wait for readiness → outputs;
 *   a failed customisation terminates the builder and reports the console tail.
 *
 * It makes no image, so it is not an image kind of image-lifecycle.ts, but it follows the
 * same conventions: the one waiter (through ec2/instances.ts and ec2/readiness.ts), the one
 * error mapper, progress on its row, a partial create when something is left that state
 * must know about (a builder whose termination failed).
 *
 * Where "terminate after the image" lives: in InstanceImage's after-image step
 * (`afterImage: "terminated"`, GoldenImage's default), not in this resource. Only the image
 * knows when it is available, and a Builder's delete runs only when the Builder itself is
 * replaced or destroyed, so it cannot end the builder right after imaging. This resource's
 * delete terminates what is still there (a kept builder, `keepBuilder: true`) when a new
 * recipe's generation replaces it or on destroy. Terminated is a builder's normal end state:
 * `read` keeps a terminated (or forgotten) builder in state as it is, so refresh and the next
 * `pulumi up` neither relaunch nor replace it; only a recipe change makes a new one.
 */
import * as pulumi from "@pulumi/pulumi";
import { RunContext } from "../core/context";
import { explainAwsError, GoldenAmiError } from "../core/errors";
import { builderClientToken, MANAGED_BY_VALUE, MARKER_TAGS, resourceNameFromUrn, stableJson } from "../core/naming";
import {
    BUILDER_READINESS_VALUES,
    BuilderReadiness,
    DEFAULT_BUILDER_INSTANCE_TYPE,
    DEFAULT_PROVISIONING_TIMEOUT_MINUTES,
    DEFAULT_STOP_TIMEOUT_MINUTES,
    MAX_USER_TAGS,
    VOLUME_TYPES,
} from "../core/options";
import { TagMap } from "../core/tags";
import { BuilderVolume, launchBuilder, updateInstanceTags } from "../ec2/builder-instance";
import { describeInstance, isEnded, terminateInstance } from "../ec2/instances";
import { waitForBuilder } from "../ec2/readiness";
import { actingIdentity } from "../ec2/identity";
import { minutes } from "../ec2/waiter";
import { actingProvider } from "./acting";
import { Checker, isUnknown } from "./checks";
import { defaulted } from "./image-kind";
import { hostKeys, PartialCreateError } from "./partial";

/** The builder's root volume as the provider gets it. */
export interface BuilderRootVolume {
    sizeGiB?: number;
    type?: string;
    encrypted?: boolean;
    kmsKeyId?: string;
}

/** The normalised inputs (after `check`). */
export interface BuilderInputs {
    region: string;
    baseImageId: string;
    instanceType: string;
    subnetId?: string;
    vpcSecurityGroupIds?: string[];
    iamInstanceProfile?: string;
    keyName?: string;
    userData?: string;
    rootVolume: BuilderRootVolume;
    volumes?: Array<Partial<BuilderVolume> & { deviceName: string }>;
    tags?: TagMap;
    waitFor: BuilderReadiness;
    provisioningTimeoutMinutes: number;
    terminateTimeoutMinutes: number;
    /** Anything else whose change must make a new builder (GoldenImage passes what defines its image). */
    rebuildOn?: unknown;
    resourceUrn?: string;
}

/** State: the inputs and the instance launched. */
export interface BuilderState extends BuilderInputs {
    instanceId: string;
    /** The ClientToken the builder was launched with. */
    clientToken: string;
    /** The account the builder was launched in (when STS could tell). */
    accountId?: string;
}

/** Inputs whose change makes a new builder (and so a new image); the rest change in place. */
export const BUILDER_REPLACE_KEYS = [
    "region",
    "baseImageId",
    "instanceType",
    "subnetId",
    "vpcSecurityGroupIds",
    "iamInstanceProfile",
    "keyName",
    "userData",
    "rootVolume",
    "volumes",
    "rebuildOn",
] as const;
const UPDATE_KEYS = ["tags", "waitFor", "provisioningTimeoutMinutes", "terminateTimeoutMinutes"] as const;

const DEVICE_NAME = /^\/dev\/(sd[b-z]|xvd[b-z]|nvme\d+n\d+)$/;

function checkVolume(c: Checker, property: string, v: Record<string, unknown> | undefined): void {
    if (v === undefined || isUnknown(v)) return;
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        c.fail(property, `${property} must be an object`);
        return;
    }
    c.integerInRange(`${property}.sizeGiB`, v.sizeGiB, 1, 65536);
    c.oneOf(`${property}.type`, v.type, VOLUME_TYPES);
    c.boolean(`${property}.encrypted`, v.encrypted);
    c.string(`${property}.kmsKeyId`, v.kmsKeyId);
    c.integerInRange(`${property}.iops`, v.iops, 100, 256000);
    c.integerInRange(`${property}.throughput`, v.throughput, 125, 2000);
    if (v.encrypted === false && v.kmsKeyId !== undefined) c.fail(`${property}.kmsKeyId`, `${property}.kmsKeyId is set but ${property}.encrypted is false; remove one`);
}

/** Preview-time checks of a Builder's inputs; the normalised inputs. */
export function checkBuilder(c: Checker, n: Record<string, unknown>): Record<string, unknown> {
    const region = defaulted(c, "region", n.region);
    c.region("region", n.region);
    if (c.required("baseImageId", n.baseImageId, 'the base image to build from: an AMI ID ("ami-...") or, in GoldenImage, a lookup (builder.baseImage)')) {
        c.id("baseImageId", n.baseImageId, "image");
    }
    c.string("instanceType", n.instanceType);
    if (typeof n.instanceType === "string" && !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(n.instanceType)) {
        c.fail("instanceType", `instanceType: "${n.instanceType}" is not an instance type like t3.micro or m7g.large`);
    }
    c.id("subnetId", n.subnetId, "subnet");
    if (n.vpcSecurityGroupIds !== undefined && !isUnknown(n.vpcSecurityGroupIds)) {
        if (!Array.isArray(n.vpcSecurityGroupIds)) c.fail("vpcSecurityGroupIds", "vpcSecurityGroupIds must be a list of security group IDs (sg-...)");
        else n.vpcSecurityGroupIds.forEach((id, i) => c.id(`vpcSecurityGroupIds[${i}]`, id, "security group"));
    }
    c.string("iamInstanceProfile", n.iamInstanceProfile);
    c.string("keyName", n.keyName);
    c.string("userData", n.userData);
    if (typeof n.userData === "string" && Buffer.byteLength(n.userData, "utf8") > 12_288) {
        c.fail("userData", "userData is longer than EC2's 16 KB (base64-encoded) limit; fetch the rest from S3 in the script");
    }
    checkVolume(c, "rootVolume", n.rootVolume as Record<string, unknown> | undefined);
    if (n.volumes !== undefined && !isUnknown(n.volumes)) {
        if (!Array.isArray(n.volumes)) c.fail("volumes", "volumes must be a list of { deviceName, sizeGiB, ... }");
        else {
            const seen = new Set<string>();
            n.volumes.forEach((v: Record<string, unknown>, i) => {
                const p = `volumes[${i}]`;
                if (c.required(`${p}.deviceName`, v?.deviceName, "the device name, e.g. /dev/sdf") && c.string(`${p}.deviceName`, v.deviceName)) {
                    if (!DEVICE_NAME.test(v.deviceName)) c.fail(`${p}.deviceName`, `${p}.deviceName: "${v.deviceName}" is not a data device name like /dev/sdf or /dev/xvdf`);
                    if (seen.has(v.deviceName)) c.fail(`${p}.deviceName`, `${p}.deviceName: "${v.deviceName}" is listed twice`);
                    seen.add(v.deviceName);
                }
                c.required(`${p}.sizeGiB`, v?.sizeGiB, "the volume's size in GiB");
                checkVolume(c, p, v);
            });
        }
    }
    c.tags("tags", n.tags, MAX_USER_TAGS);
    c.oneOf("waitFor", n.waitFor, BUILDER_READINESS_VALUES);
    c.positiveNumber("provisioningTimeoutMinutes", n.provisioningTimeoutMinutes, "minutes");
    c.positiveNumber("terminateTimeoutMinutes", n.terminateTimeoutMinutes, "minutes");
    const root = (n.rootVolume ?? {}) as Record<string, unknown>;
    const normalised: Record<string, unknown> = {
        ...n,
        region,
        instanceType: n.instanceType ?? DEFAULT_BUILDER_INSTANCE_TYPE,
        // Encrypted unless the program says otherwise: a golden image's snapshots then are too.
        rootVolume: isUnknown(n.rootVolume) ? n.rootVolume : { ...root, encrypted: root.encrypted ?? true },
        waitFor: n.waitFor ?? (n.userData !== undefined ? "stopped" : "status-ok"),
        provisioningTimeoutMinutes: n.provisioningTimeoutMinutes ?? DEFAULT_PROVISIONING_TIMEOUT_MINUTES,
        terminateTimeoutMinutes: n.terminateTimeoutMinutes ?? DEFAULT_STOP_TIMEOUT_MINUTES,
    };
    if (Array.isArray(n.volumes)) {
        // A malformed item (null, a string) is left as it is: its failures above say what is wrong.
        normalised.volumes = (n.volumes as Array<Record<string, unknown>>).map((v) => (isUnknown(v) || !v || typeof v !== "object" ? v : { ...v, encrypted: v.encrypted ?? true }));
    }
    return normalised;
}

/** What defines a builder: the ClientToken is derived from it (tags and timeouts are not part of it). */
export function builderIdentity(i: BuilderInputs): Record<string, unknown> {
    const identity: Record<string, unknown> = {};
    for (const key of BUILDER_REPLACE_KEYS) identity[key] = (i as unknown as Record<string, unknown>)[key] ?? null;
    identity.resource = resourceNameFromUrn(i.resourceUrn);
    return identity;
}

/** State holds no undefined (nothing to diff against an absent input). */
function clean<T>(value: T): T {
    return JSON.parse(JSON.stringify(value));
}

/** The Builder's dynamic provider, acting with `ctx`. */
export function builderProvider(ctx: RunContext): pulumi.dynamic.ResourceProvider {
    const waits = (urn: string | undefined) => ({ onProgress: ctx.progress(urn), clock: ctx.clock, timeScale: ctx.timeScale });

    return actingProvider("builder", {
        async check(_olds, news) {
            const c = new Checker();
            const inputs = checkBuilder(c, news);
            return { inputs, failures: c.failures };
        },

        async diff(_id, olds: BuilderState, news: BuilderInputs) {
            const changed = (key: string) =>
                stableJson((olds as unknown as Record<string, unknown>)[key] ?? null) !== stableJson((news as unknown as Record<string, unknown>)[key] ?? null);
            const replaces = BUILDER_REPLACE_KEYS.filter(changed);
            const updates = UPDATE_KEYS.filter(changed);
            return { changes: replaces.length > 0 || updates.length > 0, replaces: [...replaces], deleteBeforeReplace: false };
        },

        async create(raw) {
            const inputs = raw as unknown as BuilderInputs;
            const { region } = inputs;
            const progress = ctx.progress(inputs.resourceUrn);
            const markers = { [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.builder]: resourceNameFromUrn(inputs.resourceUrn) };
            const { instance, clientToken } = await launchBuilder(
                region,
                builderClientToken(builderIdentity(inputs)),
                {
                    baseImageId: inputs.baseImageId,
                    instanceType: inputs.instanceType,
                    subnetId: inputs.subnetId,
                    securityGroupIds: inputs.vpcSecurityGroupIds,
                    iamInstanceProfile: inputs.iamInstanceProfile,
                    keyName: inputs.keyName,
                    userData: inputs.userData,
                    rootVolume: { ...inputs.rootVolume, encrypted: inputs.rootVolume?.encrypted ?? true },
                    volumes: (inputs.volumes ?? []).map((v) => ({ ...v, encrypted: v.encrypted ?? true })),
                    tags: { Name: resourceNameFromUrn(inputs.resourceUrn), ...inputs.tags, ...markers },
                },
                progress,
            );
            const instanceId = instance.InstanceId!;
            try {
                await waitForBuilder(region, instanceId, inputs.waitFor, { ...waits(inputs.resourceUrn), timeoutMs: minutes(inputs.provisioningTimeoutMinutes) });
            } catch (err) {
                // A builder that failed is never imaged and never left behind.
                progress(`customisation of builder ${instanceId} failed; terminating it`);
                try {
                    await terminateInstance(region, instanceId, { ...waits(inputs.resourceUrn), timeoutMs: minutes(inputs.terminateTimeoutMinutes) });
                } catch (cleanup) {
                    // Kept in state, so `pulumi destroy` (or the next up's replacement) terminates what is left.
                    const both = new GoldenAmiError(`${(err as Error).message}\nTerminating the builder failed too: ${(cleanup as Error).message}`, "BuilderFailed");
                    throw new PartialCreateError(instanceId, { ...hostKeys(raw), ...clean({ ...inputs, instanceId, clientToken }) }, both);
                }
                throw err;
            }
            progress(`builder ${instanceId} is ready (${inputs.waitFor === "stopped" ? "powered itself off" : inputs.waitFor === "status-ok" ? "status checks passed" : "launched"})`);
            // The account it was launched in: an image step that cannot see it names this one.
            const accountId = (await actingIdentity(region)).account;
            return { id: instanceId, outs: clean({ ...inputs, instanceId, clientToken, accountId }) };
        },

        async read(id, props: BuilderState) {
            // Terminated is a builder's normal end state, and EC2 forgets terminated instances
            // after a while; a running or stopped one is what its recipe made. In every case it
            // stays in state as it is (no live facts are recorded that could drift), so refresh
            // never drops it and the next `pulumi up` neither relaunches nor replaces it.
            return { id, props };
        },

        async update(id, olds: BuilderState, news: BuilderInputs) {
            const region = news.region;
            try {
                if (stableJson(olds.tags ?? {}) !== stableJson(news.tags ?? {})) {
                    const instance = await describeInstance(region, id);
                    if (instance && !isEnded(instance)) await updateInstanceTags(region, id, olds.tags ?? {}, news.tags ?? {});
                }
            } catch (err) {
                throw explainAwsError(err, `updating builder ${id} in ${region}`);
            }
            return { outs: clean({ ...olds, ...news, instanceId: id, clientToken: olds.clientToken }) };
        },

        async delete(id, props: BuilderState) {
            ctx.progress(props.resourceUrn)(`terminating builder ${id} (if it is still there)`);
            await terminateInstance(props.region, id, { ...waits(props.resourceUrn), timeoutMs: minutes(props.terminateTimeoutMinutes ?? DEFAULT_STOP_TIMEOUT_MINUTES) });
        },
    });
}
