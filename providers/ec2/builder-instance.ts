/**
 * Launching a builder: RunInstances from the base image with IMDSv2 required, encrypted EBS
 * volumes by default, shutdown behaviour "stop", tags on the instance and its volumes, and a
 * ClientToken derived from the recipe; and finding the instance a token launched.
 *
 * The token is what makes "never two builders" hold: a retried or resumed create sends the
 * same token and EC2 answers the instance it launched the first time; a create whose process
 * died after the launch finds that instance by token (and golden-ami's tags) before launching.
 */
import {
    BlockDeviceMapping,
    CreateTagsCommand,
    DeleteTagsCommand,
    DescribeImagesCommand,
    DescribeInstancesCommand,
    Image,
    Instance,
    RunInstancesCommand,
    VolumeType,
    _InstanceType,
} from "@aws-sdk/client-ec2";
import { explainAwsError, GoldenAmiError } from "../core/errors";
import { MANAGED_BY_VALUE, MARKER_TAGS, nextClientToken } from "../core/naming";
import { TagMap, toTagList } from "../core/tags";
import { ec2Client } from "./client";
import { isEnded } from "./instances";

/** One EBS volume of the builder. */
export interface BuilderVolume {
    /** Device name, e.g. `/dev/sdf` (the root volume's is the base image's). */
    deviceName: string;
    /** Size in GiB. Default (root): the base image's root snapshot size. */
    sizeGiB?: number;
    /** gp3, gp2, io1, io2, st1, sc1 or standard. */
    type?: string;
    /** Encrypted (default true). */
    encrypted: boolean;
    /** KMS key ID or ARN; default the account's `aws/ebs` key. */
    kmsKeyId?: string;
    iops?: number;
    throughput?: number;
}

/** Everything RunInstances needs for a builder. */
export interface BuilderLaunch {
    baseImageId: string;
    instanceType: string;
    subnetId?: string;
    securityGroupIds?: string[];
    /** Instance profile name, or its ARN. */
    iamInstanceProfile?: string;
    keyName?: string;
    /** The script, plain text (base64-encoded here). */
    userData?: string;
    rootVolume: Omit<BuilderVolume, "deviceName">;
    volumes: BuilderVolume[];
    /** Tags of the instance and its volumes, golden-ami's marker tags included. */
    tags: TagMap;
}

/** The base image, for its root device name and root snapshot size. */
export async function describeBaseImage(region: string, imageId: string): Promise<Image> {
    let image: Image | undefined;
    try {
        image = (await ec2Client(region).send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDeprecated: true }))).Images?.[0];
    } catch (err) {
        throw explainAwsError(err, `describing base image ${imageId} in ${region}`);
    }
    if (!image) {
        throw new GoldenAmiError(
            `golden-ami: base image ${imageId} does not exist in ${region}. What to do: check baseImageId (an AMI of this region), or use a lookup (baseImage).`,
            "InvalidAMIID.NotFound",
        );
    }
    return image;
}

function ebs(volume: Omit<BuilderVolume, "deviceName">, size: number | undefined): BlockDeviceMapping["Ebs"] {
    return {
        VolumeSize: size,
        VolumeType: volume.type as VolumeType | undefined,
        Encrypted: volume.encrypted,
        KmsKeyId: volume.encrypted ? volume.kmsKeyId : undefined,
        Iops: volume.iops,
        Throughput: volume.throughput,
        // Nothing of the builder outlives its termination.
        DeleteOnTermination: true,
    };
}

/** The block device mappings: the root volume at the base image's root device, then the extra volumes. */
export function builderBlockDevices(base: Image, launch: Pick<BuilderLaunch, "rootVolume" | "volumes">): BlockDeviceMapping[] {
    const rootDevice = base.RootDeviceName ?? "/dev/xvda";
    const rootSize = base.BlockDeviceMappings?.find((m) => m.DeviceName === rootDevice)?.Ebs?.VolumeSize;
    return [
        { DeviceName: rootDevice, Ebs: ebs(launch.rootVolume, launch.rootVolume.sizeGiB ?? rootSize ?? 8) },
        ...launch.volumes.map((v) => ({ DeviceName: v.deviceName, Ebs: ebs(v, v.sizeGiB) })),
    ];
}

/** The instance a ClientToken launched (one of golden-ami's builders), if any. */
export async function findByClientToken(region: string, token: string): Promise<Instance | undefined> {
    try {
        const out = await ec2Client(region).send(
            new DescribeInstancesCommand({
                Filters: [
                    { Name: "client-token", Values: [token] },
                    { Name: `tag:${MARKER_TAGS.managedBy}`, Values: [MANAGED_BY_VALUE] },
                ],
            }),
        );
        return (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])[0];
    } catch (err) {
        throw explainAwsError(err, `looking for the builder of client token ${token} in ${region}`);
    }
}

/** How many builders of earlier generations with the same recipe a launch steps over before it gives up. */
const MAX_STALE_TOKENS = 20;

/**
 * The builder of this recipe: the one an earlier (interrupted) create launched, found by its
 * token, or a new one. Tokens that EC2 keeps bound to a terminated builder are stepped over
 * (nextClientToken), so a recipe built again after a destroy gets an instance of its own.
 */
export async function launchBuilder(
    region: string,
    token: string,
    launch: BuilderLaunch,
    onProgress: (message: string) => void,
    noun = "builder",
): Promise<{ instance: Instance; clientToken: string; adopted: boolean }> {
    let current = token;
    for (let step = 0; step < MAX_STALE_TOKENS; step++) {
        const earlier = await findByClientToken(region, current);
        if (earlier && !isEnded(earlier)) {
            onProgress(`found ${noun} ${earlier.InstanceId} from an earlier run (${earlier.State?.Name}); resuming`);
            return { instance: earlier, clientToken: current, adopted: true };
        }
        if (earlier) {
            current = nextClientToken(current, earlier.InstanceId!);
            continue;
        }
        const base = await describeBaseImage(region, launch.baseImageId);
        const tagList = toTagList(launch.tags);
        let instance: Instance | undefined;
        try {
            const out = await ec2Client(region).send(
                new RunInstancesCommand({
                    ImageId: launch.baseImageId,
                    InstanceType: launch.instanceType as _InstanceType,
                    MinCount: 1,
                    MaxCount: 1,
                    ClientToken: current,
                    SubnetId: launch.subnetId,
                    SecurityGroupIds: launch.securityGroupIds?.length ? launch.securityGroupIds : undefined,
                    IamInstanceProfile: launch.iamInstanceProfile
                        ? launch.iamInstanceProfile.startsWith("arn:") ? { Arn: launch.iamInstanceProfile } : { Name: launch.iamInstanceProfile }
                        : undefined,
                    KeyName: launch.keyName,
                    UserData: launch.userData === undefined ? undefined : Buffer.from(launch.userData, "utf8").toString("base64"),
                    InstanceInitiatedShutdownBehavior: "stop",
                    MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled" },
                    BlockDeviceMappings: builderBlockDevices(base, launch),
                    TagSpecifications: [
                        { ResourceType: "instance", Tags: tagList },
                        { ResourceType: "volume", Tags: tagList },
                    ],
                }),
            );
            instance = out.Instances?.[0];
        } catch (err) {
            throw explainAwsError(err, `launching a ${noun} from ${launch.baseImageId} in ${region}`);
        }
        if (!instance?.InstanceId) {
            throw new GoldenAmiError(`golden-ami: RunInstances in ${region} answered no instance. What to do: run \`pulumi up\` again.`, "NoInstance");
        }
        if (isEnded(instance)) {
            // The token was bound to a terminated builder that our look did not see (not tagged by us): step over it.
            current = nextClientToken(current, instance.InstanceId);
            continue;
        }
        onProgress(`launched ${noun} ${instance.InstanceId} from ${launch.baseImageId}`);
        return { instance, clientToken: current, adopted: false };
    }
    throw new GoldenAmiError(
        `golden-ami: ${MAX_STALE_TOKENS} builders of this recipe were launched and terminated before in ${region}; giving up. What to do: change the recipe (e.g. the tags of the builder are not enough: the user data or instance type) or wait a day for EC2 to forget the tokens.`,
        "TooManyBuilders",
    );
}

/** Brings the instance's tags (user tags, markers apart) from `olds` to `news`: exactly the difference. */
export async function updateInstanceTags(region: string, instanceId: string, olds: TagMap, news: TagMap): Promise<void> {
    const removed = Object.keys(olds).filter((k) => !(k in news));
    const changed = Object.entries(news).filter(([k, v]) => olds[k] !== v);
    try {
        if (removed.length) await ec2Client(region).send(new DeleteTagsCommand({ Resources: [instanceId], Tags: removed.map((Key) => ({ Key })) }));
        if (changed.length) await ec2Client(region).send(new CreateTagsCommand({ Resources: [instanceId], Tags: toTagList(Object.fromEntries(changed)) }));
    } catch (err) {
        throw explainAwsError(err, `updating the tags of builder ${instanceId} in ${region}`);
    }
}
