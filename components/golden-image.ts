/**
 * `GoldenImage`: the whole golden-AMI pipeline as one Pulumi component.
 *
 * ```
 * Builder (golden-ami's own: RunInstances with a recipe ClientToken → customised → ready),
 *    │ instanceId          or an existing instance (existingInstanceId, e.g. your aws.ec2.Instance)
 * InstanceImage (stop → CreateImage → wait available + snapshots → verify → terminate the builder)
 *    │ imageId
 * ImageCopy × copyToRegions (CopyImage per region, concurrently)
 *    │
 * distribution (sharing, snapshot permissions, deprecation, protection) on every image
 * ```
 *
 * Rebuilds: a change of the recipe (base image, user data, instance settings, or for a
 * captured server its instance ID and block device overrides) makes a new builder, a new
 * image under a new name, and new copies: the next generation of each lineage. Pulumi creates
 * the replacements first (nothing here asks for delete-before-replace); the old image and
 * copies are then retired (deprecated, left registered) rather than deleted, and `retention`
 * decides when they go (providers/lifecycle/retention.ts), so a consumer that still names an
 * old AMI keeps launching. An unchanged recipe makes `pulumi up` a no-op.
 */
import * as pulumi from "@pulumi/pulumi";
import { Builder } from "../providers/resources/builder";
import { ImageCopy } from "../providers/resources/image-copy";
import { deterministicImageName } from "../providers/core/naming";
import { DEFAULT_BUILDER_INSTANCE_TYPE, ImageBlockDevice } from "../providers/core/options";
import type { RetentionReport } from "../providers/core/lineage";
import { InstanceImage } from "../providers/resources/instance-image";
import { baseImage, resolveRegion } from "./base-image";
import { awsProviderOf } from "../providers/resources/aws-provider";
import {
    effectiveReadiness,
    GoldenImageArgs,
    GoldenImageDistribution,
    publishedParameterName,
    Readiness,
    RegionImageIds,
    validateGoldenImageArgs,
    WAIT_FOR_BUILDER,
} from "./golden-image-args";

/** The component's Pulumi type token. */
export const GOLDEN_IMAGE_TYPE = "golden-ami:index:GoldenImage";

export { DEFAULT_BUILDER_INSTANCE_TYPE };
export * from "./golden-image-args";

/** Block device overrides in a stable order, for the recipe hash. */
function normalisedDevices(list: ImageBlockDevice[] | undefined): ImageBlockDevice[] {
    return [...(list ?? [])]
        .map((d) => JSON.parse(JSON.stringify(d)) as ImageBlockDevice)
        .sort((a, b) => (a.deviceName < b.deviceName ? -1 : a.deviceName > b.deviceName ? 1 : 0));
}

/**
 * The AMI name for a recipe: `prefix-<hash>`, the hash over what defines the image (the
 * instance it is taken from, which a builder replacement changes, the region, block device
 * overrides and stop-before-image). A new recipe never reuses the name of the image it replaces.
 */
export function recipeImageName(
    prefix: string,
    recipe: { instanceId: string; region?: string; blockDeviceMappings?: ImageBlockDevice[]; stopBeforeImage?: boolean },
): string {
    return deterministicImageName(prefix, {
        instanceId: recipe.instanceId,
        region: recipe.region ?? null,
        blockDeviceMappings: normalisedDevices(recipe.blockDeviceMappings),
        stopBeforeImage: recipe.stopBeforeImage ?? true,
    });
}

function tryResolveRegion(explicit?: string): string | undefined {
    try {
        return resolveRegion(explicit);
    } catch {
        return undefined; // InstanceImage reports the missing region with its own message
    }
}

/**
 * A golden AMI, built and distributed: a builder instance (or an existing instance) imaged
 * with InstanceImage, copied to other regions with ImageCopy, shared and deprecated as
 * `distribution` says.
 *
 * @example
 * ```ts
 * const golden = new GoldenImage("web", {
 *     builder: {
 *         baseImage: { ssmParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" },
 *         instanceType: "t3.small",
 *         subnetId: privateSubnet.id,
 *         vpcSecurityGroupIds: [builderSg.id],
 *         iamInstanceProfile: ssmProfile.name,
 *         userData: `#!/bin/bash
 * set -euo pipefail
 * dnf install -y nginx && systemctl enable nginx
 * shutdown -h now`,                          // readiness "self-stop" (the default with userData)
 *         rootVolume: { sizeGiB: 16, type: "gp3", encrypted: true },
 *     },
 *     copyToRegions: ["eu-west-1", "ap-southeast-2"],
 *     distribution: { launchAccounts: ["111122223333"], deprecateAt: "2030-01-31T00:00:00Z" },
 *     tags: { team: "platform" },
 * });
 * export const imageId = golden.imageId;
 * export const regionImageIds = golden.regionImageIds;
 * ```
 */
export class GoldenImage extends pulumi.ComponentResource {
    /** The AMI ID in the build region. */
    public readonly imageId: pulumi.Output<string>;
    /** The AMI name (prefix plus recipe hash); the copies carry the same name. */
    public readonly imageName: pulumi.Output<string>;
    /** The build region. */
    public readonly region: pulumi.Output<string>;
    /** IDs of the image's EBS snapshots (build region). */
    public readonly snapshotIds: pulumi.Output<string[]>;
    /** Region → AMI ID for the build region and every region in `copyToRegions`. */
    public readonly regionImageIds: pulumi.Output<RegionImageIds>;
    /** The instance the image was taken from (the builder's ID, or `existingInstanceId`). */
    public readonly builderInstanceId: pulumi.Output<string>;
    /** The base image the builder was launched from; undefined with `existingInstanceId`. */
    public readonly baseImageId?: pulumi.Output<string>;
    /** The builder (golden-ami's Builder resource); undefined with `existingInstanceId`. */
    public readonly builder?: Builder;
    /** The generation of the image (1 for the first build, one more with each rebuild). */
    public readonly generation: pulumi.Output<number | undefined>;
    /** The SSM parameter the AMI ID is published in (in every region), when `publish` is set. */
    public readonly ssmParameterName: pulumi.Output<string | undefined>;
    /** Region → what the last retention run kept (with the reason) and removed, the build region included. */
    public readonly retentionReports: pulumi.Output<Record<string, RetentionReport | undefined>>;
    /** The image in the build region. */
    public readonly image: InstanceImage;
    /** The copies, by region. */
    public readonly copies: Record<string, ImageCopy>;
    /** The copies into other accounts: account ID → region (or "build" for the default) → copy. */
    public readonly accountCopies: Record<string, Record<string, ImageCopy>>;
    /** Account ID → region → AMI ID of every copy into another account (copyToAccounts). */
    public readonly accountImageIds: pulumi.Output<Record<string, RegionImageIds>>;

    constructor(name: string, args: GoldenImageArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validated before anything is registered: a wrong shape registers nothing.
        // With an explicit aws provider (its own or its parent's), an unset region is the provider's, not the stack's.
        const buildRegion = args.region ?? (awsProviderOf(opts) ? undefined : tryResolveRegion(undefined));
        validateGoldenImageArgs(name, args, buildRegion);
        super(GOLDEN_IMAGE_TYPE, name, {}, opts);

        const readiness = effectiveReadiness(args);
        const ssmParameterName = publishedParameterName(name, args.publish);
        const distribution: GoldenImageDistribution = args.distribution ?? {};

        let instanceId: pulumi.Input<string>;
        let afterImage = args.afterImage;
        if (args.builder) {
            // The base image is looked up in the region the builder runs in: the explicit provider's when the build region is its.
            const provider = buildRegion === undefined ? awsProviderOf(opts) : undefined;
            const lookupRegion = provider ? pulumi.output((provider as unknown as { region: pulumi.Output<string | undefined> }).region) : undefined;
            this.builder = this.makeBuilder(name, args, readiness, buildRegion, lookupRegion);
            instanceId = this.builder.instanceId;
            this.baseImageId = this.builder.baseImageId;
            afterImage ??= args.keepBuilder ? "stopped" : "terminated";
        } else {
            instanceId = args.existingInstanceId!;
        }

        const imageName = pulumi
            .all([instanceId, args.blockDeviceMappings, args.stopBeforeImage])
            .apply(([id, devices, stop]) =>
                recipeImageName(args.namePrefix ?? name, {
                    instanceId: id,
                    region: buildRegion,
                    blockDeviceMappings: devices as ImageBlockDevice[] | undefined,
                    stopBeforeImage: stop,
                }),
            );

        this.image = new InstanceImage(
            `${name}-image`,
            {
                instanceId,
                region: buildRegion,
                name: imageName,
                description: args.description,
                tags: args.tags,
                snapshotTags: args.snapshotTags,
                blockDeviceMappings: args.blockDeviceMappings,
                stopBeforeImage: args.stopBeforeImage,
                afterImage,
                stopTimeoutMinutes: args.stopTimeoutMinutes,
                imageTimeoutMinutes: args.imageTimeoutMinutes,
                // golden-ami's own builder is ready when the Builder resource exists (it waited itself).
                waitForBuilder: args.builder ? "none" : WAIT_FOR_BUILDER[readiness],
                provisioningTimeoutMinutes: args.provisioningTimeoutMinutes,
                verify: args.verify,
                instanceAccountId: this.builder?.accountId,
                retention: args.retention,
                onDestroy: args.onDestroy,
                ssmParameterName,
                ...distribution,
            },
            { parent: this },
        );

        this.copies = {};
        for (const region of args.copyToRegions ?? []) {
            this.copies[region] = new ImageCopy(
                `${name}-copy-${region}`,
                {
                    sourceImageId: this.image.imageId,
                    sourceRegion: this.image.region,
                    region,
                    name: this.image.name,
                    description: args.description,
                    encrypted: args.copies?.encrypted,
                    kmsKeyId: args.copies?.kmsKeyIds?.[region],
                    copyImageTags: args.copies?.copyImageTags,
                    tags: args.tags,
                    snapshotTags: args.snapshotTags,
                    imageTimeoutMinutes: args.copies?.imageTimeoutMinutes ?? args.imageTimeoutMinutes,
                    retention: args.retention,
                    onDestroy: args.onDestroy,
                    ssmParameterName,
                    ...distribution,
                },
                // A copy's own provider, else the component's (its children inherit it as its aws children do).
                { parent: this, ...(args.copies?.providers?.[region] ? { provider: args.copies.providers[region] } : {}) },
            );
        }

        this.accountCopies = {};
        for (const target of args.copyToAccounts ?? []) {
            const copies: Record<string, ImageCopy> = {};
            // Without regions: the build region (the image's, known once it is registered).
            for (const region of target.regions ?? [undefined]) {
                const key = region ?? "build";
                copies[key] = new ImageCopy(
                    region ? `${name}-copy-${target.accountId}-${region}` : `${name}-copy-${target.accountId}`,
                    {
                        sourceImageId: this.image.imageId,
                        sourceRegion: this.image.region,
                        region: region ?? this.image.region,
                        name: this.image.name,
                        description: args.description,
                        encrypted: args.copies?.encrypted,
                        kmsKeyId: target.kmsKeyIds?.[region ?? buildRegion ?? ""],
                        tags: args.tags,
                        snapshotTags: args.snapshotTags,
                        imageTimeoutMinutes: args.copies?.imageTimeoutMinutes ?? args.imageTimeoutMinutes,
                        retention: args.retention,
                        onDestroy: args.onDestroy,
                        accountId: target.accountId,
                        roleArn: target.roleArn,
                        roleSessionName: target.roleSessionName,
                        shareSource: true,
                        ...(target.distribution ?? {}),
                    },
                    // The component's provider (inherited) is what the role is assumed with, and the source's owner.
                    { parent: this },
                );
            }
            this.accountCopies[target.accountId] = copies;
        }
        const accountIds = Object.entries(this.accountCopies).map(([account, copies]) =>
            pulumi.all(Object.values(copies).map((c) => pulumi.all([c.region, c.imageId]))).apply((pairs) => [account, Object.fromEntries(pairs)] as const),
        );
        this.accountImageIds = pulumi.all(accountIds).apply((entries) => Object.fromEntries(entries));

        this.imageId = this.image.imageId;
        this.imageName = this.image.name;
        this.region = this.image.region;
        this.snapshotIds = this.image.snapshotIds;
        this.builderInstanceId = pulumi.output(instanceId);
        this.generation = this.image.generation;
        this.ssmParameterName = pulumi.output(ssmParameterName);
        const copyReports = Object.entries(this.copies).map(([region, copy]) => copy.retentionReport.apply((r) => [region, r] as const));
        this.retentionReports = pulumi
            .all([this.image.region, this.image.retentionReport, pulumi.all(copyReports)])
            .apply(([region, report, copies]) => ({ [region]: report, ...Object.fromEntries(copies) }));
        const copyIds = Object.entries(this.copies).map(([region, copy]) => copy.imageId.apply((id: string) => [region, id] as const));
        this.regionImageIds = pulumi
            .all([this.image.region, this.image.imageId, pulumi.all(copyIds)])
            .apply(([region, imageId, copies]) => ({ [region]: imageId, ...Object.fromEntries(copies) }));

        this.registerOutputs({
            imageId: this.imageId,
            imageName: this.imageName,
            region: this.region,
            snapshotIds: this.snapshotIds,
            regionImageIds: this.regionImageIds,
            accountImageIds: this.accountImageIds,
            builderInstanceId: this.builderInstanceId,
            baseImageId: this.baseImageId,
            generation: this.generation,
            retentionReports: this.retentionReports,
            ssmParameterName: this.ssmParameterName,
        });
    }

    private makeBuilder(
        name: string,
        args: GoldenImageArgs,
        readiness: Readiness,
        region: string | undefined,
        lookupRegion?: pulumi.Output<string | undefined>,
    ): Builder {
        const b = args.builder!;
        const baseImageId = b.baseImageId ?? baseImage({ ...b.baseImage!, region: b.baseImage!.region ?? region ?? (lookupRegion as pulumi.Output<string> | undefined) }).imageId;
        return new Builder(
            `${name}-builder`,
            {
                region,
                baseImageId,
                instanceType: b.instanceType ?? DEFAULT_BUILDER_INSTANCE_TYPE,
                subnetId: b.subnetId,
                vpcSecurityGroupIds: b.vpcSecurityGroupIds,
                iamInstanceProfile: b.iamInstanceProfile,
                keyName: b.keyName,
                userData: b.userData,
                rootVolume: b.rootVolume,
                volumes: b.volumes,
                tags: b.tags,
                waitFor: WAIT_FOR_BUILDER[readiness],
                provisioningTimeoutMinutes: args.provisioningTimeoutMinutes,
                terminateTimeoutMinutes: args.stopTimeoutMinutes,
                // What defines the image is part of the builder's recipe: a terminated builder
                // cannot be imaged again, so a new image needs a new builder.
                // A failed verification terminates the builder, so a changed verify needs a new one too.
                rebuildOn: {
                    namePrefix: args.namePrefix ?? name,
                    blockDeviceMappings: args.blockDeviceMappings ?? null,
                    stopBeforeImage: args.stopBeforeImage ?? true,
                    verify: args.verify ?? null,
                },
            },
            // Replaced, never updated in place, when the recipe changes (the Builder's diff): a new
            // builder is a new image. Pulumi's default create-before-delete keeps the old image until the new one exists.
            { parent: this },
        );
    }
}
