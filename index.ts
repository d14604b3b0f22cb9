/**
 * golden-ami's own Pulumi program (Pulumi.yaml in this directory): one stack per region,
 * configured by stack configuration (`Pulumi.<stack>.yaml`).
 *
 * ## Configuration (namespace `golden-ami:`)
 *
 * `mode` (required): what this stack is.
 * - `build`: make the golden image in this stack's region (`aws:region`) and copy it to
 *   `copyToRegions`.
 * - `regional`: copy the image of another golden-image stack (`sourceStack`) into this
 *   stack's region, with this stack's own sharing settings; owned and deleted by this stack.
 * - `consumer`: launch identical instances, spread over two availability zones, from the
 *   golden image of `sourceStack` for this region (a launch template plus instances).
 *
 * Every mode: `aws:region` — the stack's region (the build region in build mode).
 *
 * Build and regional mode: `copySlotsPerRegion` (default 20, EC2's quota of concurrent snapshot
 * copies per destination region): how many snapshot copies this stack runs at once into one
 * region (a copy of an image of N volumes takes N); the rest wait for a slot. Read by the
 * provider process of golden-ami's resources in any program (`golden-ami:copySlotsPerRegion`);
 * stacks deploying into the same region at the same time share EC2's quota, so split it between them.
 *
 * Build mode — the source, exactly one of:
 * - `existingInstanceId`: an instance customised by hand to capture (it is stopped, imaged,
 *   left stopped; never terminated).
 * - `builder` (object): a builder instance to launch (golden-ami's Builder; terminated once the
 *   image is available unless `keepBuilder` is true). Keys: `baseImageId` ("ami-...") or
 *   `baseImage` ({ ssmParameter } or { owners, namePattern, architecture }), `instanceType`
 *   (default t3.micro), `subnetId`, `vpcSecurityGroupIds` (list), `iamInstanceProfile`,
 *   `keyName`, `userData` (the customisation script) or `userDataFile` (path to it, relative
 *   to the project directory, where Pulumi.yaml is), `rootVolume` ({ sizeGiB, type, encrypted (default true), kmsKeyId }),
 *   `volumes` (list of { deviceName, sizeGiB, type, encrypted, kmsKeyId, iops, throughput }), `tags`.
 *   Example: `pulumi config set --path golden-ami:builder.baseImage.ssmParameter /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`.
 *
 * Build mode — the image:
 * - `readiness`: `self-stop` (the script powers the builder off; default with user data),
 *   `status-ok` (running with status checks passed; default without), `none` (default for
 *   `existingInstanceId`).
 * - `provisioningTimeoutMinutes` (default 30): how long the builder may take to be ready.
 * - `keepBuilder` (default false): keep the builder, stopped, once its image exists.
 * - `verify` (object): the verification gate before any copy or sharing: { instanceType,
 *   subnetId, vpcSecurityGroupIds, userData (a test script that prints GOLDEN-AMI-OK and
 *   powers off when the image passes), timeoutMinutes }.
 * - `namePrefix` (default: the project name): the AMI name is this plus a hash of the recipe.
 * - `description`, `tags` (object), `snapshotTags` (object).
 * - `blockDeviceMappings` (list of { deviceName, noDevice, volumeSize, volumeType, iops,
 *   throughput, deleteOnTermination }): overrides of the instance's volumes in the image.
 * - `stopBeforeImage` (default true), `afterImage` (`stopped` | `running` | `terminated`;
 *   default terminated for a builder, stopped with keepBuilder or for an existing instance),
 *   `stopTimeoutMinutes` (default 10), `imageTimeoutMinutes` (default 60).
 * - `copyToRegions` (list of regions): copies made by this stack.
 * - `copies` (object): { encrypted, kmsKeyIds: { <region>: <key> }, copyImageTags, imageTimeoutMinutes }.
 *
 * Build and regional mode — distribution, `distribution` (object), applied to every image the
 * stack manages: { launchAccounts: [..], launchOrganizations: [..], launchOrganizationalUnits:
 * [..], public (explicit opt-in), shareSnapshots, deprecateAt ("2030-01-31T00:00:00Z"),
 * deregistrationProtection }.
 *
 * Build and regional mode — generations: a rebuild retires the previous image (deprecated, left
 * registered) instead of deleting it. `retention` (object): { keep (default 2), minAge ("7d"),
 * launchedWithin (default "14d"), disableAfter (unset: never) }: which retired generations stay
 * (referenced ones always do), and when an unreferenced kept one is disabled (DisableImage).
 * `onDestroy`: `delete` (default: destroy removes every generation) or `retain` (keeps the current one).
 * `publish` (build mode, object): {} or { parameterName }: the AMI ID of each region in an SSM
 * parameter of that region (`/golden-ami/<namePrefix>/latest` by default, data type aws:ec2:image).
 *
 * Regional and consumer mode:
 * - `sourceStack` (required): the golden-image stack to read, e.g. `acme/golden-ami/build-us-east-1`
 *   (Pulumi Cloud) or `organization/golden-ami/build-us-east-1` (file backend; both stacks
 *   in the same backend).
 *
 * Regional mode: `description`, `tags`, `snapshotTags`, `imageTimeoutMinutes`, `copies`
 * ({ encrypted, kmsKeyIds: { <region>: <key> }, copyImageTags }) as in build mode.
 *
 * Consumer mode:
 * - `launch` (default true): false only resolves and exports the golden AMI of this region.
 * - `instanceType` (default t3.micro), `instanceCount` (default 2), `keyName`,
 *   `iamInstanceProfile`, `securityGroupIds` (list), `userData`.
 * - `subnetIds` (list): instances are spread over them in turn (give subnets in two
 *   availability zones). Default: the first two available zones of the default VPC.
 *
 * ## Stack outputs
 *
 * Build and regional mode (stable; read by {@link goldenImageFromStack}):
 * `{ imageId, imageName, region, regionImageIds: { <region>: <ami-id> }, snapshotIds }` —
 * `imageId`/`snapshotIds` in this stack's region; `regionImageIds` lists every image the
 * stack manages (build: the build region and each copy; regional: its one copy).
 *
 * Consumer mode: `{ imageId, imageName, region, launchTemplateId, instanceIds, availabilityZones }`.
 */
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GoldenImage, GoldenImageBuilderArgs, GoldenImageCopyArgs, GoldenImageDistribution, Readiness } from "./components/golden-image";
import { goldenImageFromStack } from "./components/consumer";
import { checkedProgramConfig, Mode } from "./components/program-config";
import { resolveRegion } from "./components/base-image";
import { AfterImage, ImageBlockDevice, VerifySettings } from "./providers/core/options";
import type { OnDestroy, RetentionArgs } from "./providers/core/lineage";
import { ImageCopy } from "./providers/resources/image-copy";

const config = new pulumi.Config("golden-ami");

/** Builder settings as stack configuration: the component's, plus `userDataFile`. */
interface BuilderConfig extends GoldenImageBuilderArgs {
    userDataFile?: string;
}

/** Build mode: the golden image in this region, and its copies. */
function build(): Record<string, pulumi.Output<unknown>> {
    const builderConfig = config.getObject<BuilderConfig>("builder");
    let builder: GoldenImageBuilderArgs | undefined;
    if (builderConfig) {
        const { userDataFile, ...rest } = builderConfig;
        if (userDataFile !== undefined && rest.userData !== undefined) {
            throw new pulumi.RunError("golden-ami: set golden-ami:builder.userData or golden-ami:builder.userDataFile, not both.");
        }
        // Relative to the project directory (Pulumi.yaml's), where `pulumi` runs, whichever directory the program's main is in.
        const projectDir = pulumi.runtime.getRootDirectory() || process.cwd();
        builder = userDataFile !== undefined ? { ...rest, userData: fs.readFileSync(path.resolve(projectDir, userDataFile), "utf8") } : rest;
    }
    const golden = new GoldenImage("golden", {
        builder,
        existingInstanceId: config.get("existingInstanceId"),
        readiness: config.get("readiness") as Readiness | undefined,
        provisioningTimeoutMinutes: config.getNumber("provisioningTimeoutMinutes"),
        keepBuilder: config.getBoolean("keepBuilder"),
        verify: config.getObject<VerifySettings>("verify"),
        namePrefix: config.get("namePrefix") ?? pulumi.getProject(),
        description: config.get("description"),
        tags: config.getObject<Record<string, string>>("tags"),
        snapshotTags: config.getObject<Record<string, string>>("snapshotTags"),
        blockDeviceMappings: config.getObject<ImageBlockDevice[]>("blockDeviceMappings"),
        stopBeforeImage: config.getBoolean("stopBeforeImage"),
        afterImage: config.get("afterImage") as AfterImage | undefined,
        stopTimeoutMinutes: config.getNumber("stopTimeoutMinutes"),
        imageTimeoutMinutes: config.getNumber("imageTimeoutMinutes"),
        copyToRegions: config.getObject<string[]>("copyToRegions"),
        copies: config.getObject<GoldenImageCopyArgs>("copies"),
        distribution: config.getObject<GoldenImageDistribution>("distribution"),
        retention: config.getObject<RetentionArgs>("retention"),
        onDestroy: config.get("onDestroy") as OnDestroy | undefined,
        publish: config.getObject<{ parameterName?: string }>("publish"),
    });
    return {
        imageId: golden.imageId,
        imageName: golden.imageName,
        region: golden.region,
        regionImageIds: golden.regionImageIds,
        snapshotIds: golden.snapshotIds,
        generation: golden.generation,
        retention: golden.retentionReports,
    };
}

/** Regional mode: this stack's own copy of another stack's golden image. */
function regional(): Record<string, pulumi.Output<unknown>> {
    const sourceStack = config.require("sourceStack");
    const region = resolveRegion();
    const source = new pulumi.StackReference(sourceStack);
    const sourceRegion = source.requireOutput("region") as pulumi.Output<string>;
    const copies = config.getObject<GoldenImageCopyArgs>("copies") ?? {};
    const copy = new ImageCopy(`golden-${region}`, {
        sourceImageId: pulumi.all([source.requireOutput("imageId"), sourceRegion]).apply(([id, from]) => {
            if (from === region) {
                throw new pulumi.RunError(
                    `golden-ami: regional stack in ${region} copies from ${sourceStack}, which is in ${region} already; ` +
                        `set aws:region of this stack to another region.`,
                );
            }
            return id as string;
        }),
        sourceRegion,
        region,
        name: source.requireOutput("imageName") as pulumi.Output<string>,
        description: config.get("description"),
        encrypted: copies.encrypted,
        kmsKeyId: copies.kmsKeyIds?.[region],
        copyImageTags: copies.copyImageTags,
        tags: config.getObject<Record<string, string>>("tags"),
        snapshotTags: config.getObject<Record<string, string>>("snapshotTags"),
        imageTimeoutMinutes: copies.imageTimeoutMinutes ?? config.getNumber("imageTimeoutMinutes"),
        ...(config.getObject<GoldenImageDistribution>("distribution") ?? {}),
        retention: config.getObject<RetentionArgs>("retention"),
        onDestroy: config.get("onDestroy") as OnDestroy | undefined,
    });
    return {
        imageId: copy.imageId,
        imageName: copy.name,
        region: pulumi.output(region),
        regionImageIds: copy.imageId.apply((id: string) => ({ [region]: id })),
        snapshotIds: copy.snapshotIds,
        generation: copy.generation,
        retention: copy.retentionReport.apply((r) => ({ [region]: r })),
    };
}

/** Consumer mode: identical instances in two availability zones, from the golden image. */
function consumer(): Record<string, pulumi.Output<unknown>> {
    const region = resolveRegion();
    const golden = goldenImageFromStack(config.require("sourceStack"), region);
    if (config.getBoolean("launch") === false) {
        // Only resolve the golden AMI of this region (for other tools, or where the AWS
        // provider plugin is not available, as in the demo on the emulator).
        return { imageId: golden.imageId, imageName: golden.imageName, region: pulumi.output(region) };
    }
    const count = config.getNumber("instanceCount") ?? 2;
    if (!Number.isInteger(count) || count < 1) throw new pulumi.RunError(`golden-ami:instanceCount must be a whole number >= 1, not ${count}.`);
    const subnetIds = config.getObject<string[]>("subnetIds");
    const securityGroupIds = config.getObject<string[]>("securityGroupIds");

    const template = new aws.ec2.LaunchTemplate("app", {
        imageId: golden.imageId,
        instanceType: config.get("instanceType") ?? "t3.micro",
        keyName: config.get("keyName"),
        iamInstanceProfile: config.get("iamInstanceProfile") ? { name: config.get("iamInstanceProfile") } : undefined,
        vpcSecurityGroupIds: securityGroupIds,
        userData: config.get("userData") ? Buffer.from(config.get("userData")!).toString("base64") : undefined,
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        tagSpecifications: [{ resourceType: "instance", tags: { "golden-ami:image": golden.imageName } }],
        updateDefaultVersion: true,
    });
    const zones =
        subnetIds && subnetIds.length > 0
            ? undefined
            : aws.getAvailabilityZonesOutput({ state: "available" }).names.apply((names) => {
                  if (names.length < 2) throw new pulumi.RunError(`golden-ami: ${region} has fewer than two available zones (${names.join(", ")}).`);
                  return names.slice(0, 2);
              });
    const instances: aws.ec2.Instance[] = [];
    for (let i = 0; i < count; i++) {
        instances.push(
            new aws.ec2.Instance(`app-${i + 1}`, {
                launchTemplate: { id: template.id, version: template.latestVersion.apply((v) => `${v}`) },
                subnetId: subnetIds && subnetIds.length > 0 ? subnetIds[i % subnetIds.length] : undefined,
                availabilityZone: zones ? zones.apply((z) => z[i % z.length]) : undefined,
                tags: { Name: `${pulumi.getStack()}-app-${i + 1}` },
            }),
        );
    }
    return {
        imageId: golden.imageId,
        imageName: golden.imageName,
        region: pulumi.output(region),
        launchTemplateId: template.id,
        instanceIds: pulumi.all(instances.map((instance) => instance.id)),
        availabilityZones: pulumi.all(instances.map((instance) => instance.availabilityZone)),
    };
}

function main(): Record<string, pulumi.Output<unknown>> {
    // Every golden-ami:* key is checked first: a typo is an error, not a setting silently ignored.
    const modes: Record<Mode, () => Record<string, pulumi.Output<unknown>>> = { build, regional, consumer };
    return modes[checkedProgramConfig()]();
}

export = main();
