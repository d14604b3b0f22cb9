/**
 * What every golden-ami image resource (InstanceImage, ImageCopy) is and reports: a
 * dynamic resource of type `golden-ami:<Kind>` behind the provider shim, with the outputs
 * every AMI has. Each subclass adds its own arguments and outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { OnDestroy, RetentionArgs, RetentionReport } from "../core/lineage";
import { regionWarning } from "../core/region";
import type { ImageBlockDeviceOutput } from "../ec2/images";
import { awsProviderOf, explicitSettings, withoutAwsProvider } from "./aws-provider";
import { DistributionInputs, distributionOutputSlots } from "./distribution-inputs";
import { ownUrn, providerShim, ProviderKind } from "./shim";

/** One shim object per kind: Pulumi serializes each provider object once per program run. */
const shims = new Map<ProviderKind, pulumi.dynamic.ResourceProvider>();

function shimFor(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
    let shim = shims.get(kind);
    if (!shim) {
        shim = providerShim(kind);
        shims.set(kind, shim);
    }
    return shim;
}

/** Arguments every image resource has; each kind adds its own (and documents its own `region` and `name`). */
export interface ImageResourceArgs extends DistributionInputs {
    /**
     * Region of the image. Default: the stack's `aws:region`, else `AWS_REGION` /
     * `AWS_DEFAULT_REGION`. Changing it makes a new image.
     */
    region?: pulumi.Input<string>;
    /**
     * AMI name (3-128 characters of letters, digits and `( ) [ ] space . / - ' @ _`; unique per
     * region and account). Default: the resource name plus a hash of what defines the image,
     * so a retried create finds the image it already made. Changing it makes a new image.
     */
    name?: pulumi.Input<string>;
    /** AMI description (at most 255 characters). Updated in place. */
    description?: pulumi.Input<string>;
    /** Tags of the image, set in the call that makes it. Updated in place (exactly the difference). */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Tags of the image's EBS snapshots, set in the call that makes it. Updated in place. */
    snapshotTags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * How long the image may take to become available with all snapshots completed, in minutes.
     * Default 60. When it runs out, the image is kept in state and the next `pulumi up` resumes waiting.
     */
    imageTimeoutMinutes?: pulumi.Input<number>;
    /**
     * Take an existing AMI of this account (in `region`) under management instead of making one —
     * golden-ami's equivalent of `pulumi import` (Pulumi cannot import dynamic-provider resources,
     * pulumi/pulumi#16175). The image is then updated, and deleted on destroy, like one golden-ami made.
     */
    adoptImageId?: pulumi.Input<string>;
    /**
     * Which retired generations stay when a rebuild replaces this image (the old one is retired:
     * deprecated at once, left registered). `keep` (default 2): the newest retired generations
     * kept; `minAge` ("7d"; default "0s"): any retired less than this ago is kept; `launchedWithin`
     * ("14d" by default; "0s" turns it off): any an instance was launched from within this window
     * is kept. An image still referenced (a live instance, a launch template's newest 10 versions,
     * an SSM parameter: DescribeImageReferences) or under deregistration protection is never
     * removed; `retentionReport` says why each kept one stays. The rest is deregistered with its
     * snapshots. `disableAfter` (unset: never): a kept generation retired at least that long ago
     * is disabled (DisableImage), unless still referenced or launched from within launchedWithin.
     * Runs on every `pulumi up` that creates or updates this resource. Updated in place.
     */
    retention?: pulumi.Input<RetentionArgs>;
    /**
     * What `pulumi destroy` does with the current generation: `"delete"` (default) removes it with
     * every retired generation of the lineage in its region, snapshots included; `"retain"` keeps
     * it (and its snapshots) and removes only the retired ones. Images under deregistration
     * protection are always left, with a warning that says what to do.
     */
    onDestroy?: pulumi.Input<OnDestroy>;
    /**
     * Publish the AMI ID in this SSM parameter of the image's region (data type `aws:ec2:image`,
     * e.g. `/golden-ami/web/latest`), set only once the image is available and distributed;
     * each rebuild is a new version (the previous ID stays in the parameter's history). Launch
     * templates read it with `resolve:ssm:<name>`. Destroy deletes it (if it still names this image).
     */
    ssmParameterName?: pulumi.Input<string>;
}

export abstract class ImageResource extends pulumi.dynamic.Resource {
    /** The AMI ID. */
    declare public readonly imageId: pulumi.Output<string>;
    /** The AMI name (given or derived). */
    declare public readonly name: pulumi.Output<string>;
    /** IDs of the image's EBS snapshots, in block device order. */
    declare public readonly snapshotIds: pulumi.Output<string[]>;
    /** Image state as last seen (`available` once created). */
    declare public readonly state: pulumi.Output<string>;
    /** When EC2 created the image (ISO 8601). */
    declare public readonly creationDate: pulumi.Output<string>;
    /** Account that owns the image. */
    declare public readonly ownerId: pulumi.Output<string>;
    /** CPU architecture (x86_64, arm64, ...). */
    declare public readonly architecture: pulumi.Output<string>;
    /** Root device name, e.g. /dev/xvda. */
    declare public readonly rootDeviceName: pulumi.Output<string>;
    /** Block device mappings of the image as EC2 reports them (with encryption and KMS key). */
    declare public readonly blockDeviceMappings: pulumi.Output<ImageBlockDeviceOutput[]>;
    /** Region of the image. */
    declare public readonly region: pulumi.Output<string>;
    /** Tags of the image (without golden-ami's marker tags). */
    declare public readonly tags: pulumi.Output<Record<string, string> | undefined>;
    /** Tags of the image's snapshots (without golden-ami's marker tags). */
    declare public readonly snapshotTags: pulumi.Output<Record<string, string> | undefined>;
    /** Accounts allowed to launch the image (live value). */
    declare public readonly launchAccounts: pulumi.Output<string[] | undefined>;
    /** Organizations allowed to launch the image (live value). */
    declare public readonly launchOrganizations: pulumi.Output<string[] | undefined>;
    /** Organizational units allowed to launch the image (live value). */
    declare public readonly launchOrganizationalUnits: pulumi.Output<string[] | undefined>;
    /** Whether the image is public (live value). */
    declare public readonly public: pulumi.Output<boolean | undefined>;
    /** Whether the launch accounts may create volumes from the snapshots (live value). */
    declare public readonly shareSnapshots: pulumi.Output<boolean | undefined>;
    /** When EC2 marks the image deprecated (live value). */
    declare public readonly deprecateAt: pulumi.Output<string | undefined>;
    /** Whether deregistration protection is on (live value). */
    declare public readonly deregistrationProtection: pulumi.Output<boolean | undefined>;
    /** The lineage id: the same for every generation this resource makes (tag `golden-ami:lineage`). */
    declare public readonly lineage: pulumi.Output<string | undefined>;
    /** The generation of the current image in its lineage: 1, 2, 3, … (tag `golden-ami:generation`). */
    declare public readonly generation: pulumi.Output<number | undefined>;
    /** What the last retention run kept (with the reason) and removed. */
    declare public readonly retentionReport: pulumi.Output<RetentionReport | undefined>;

    /**
     * @param props the subclass's own inputs and output slots (output-only properties must be
     *              present, as undefined, to be read back)
     */
    protected constructor(kind: ProviderKind, name: string, args: ImageResourceArgs, props: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
        ImageResource.warnAbout(name, args, opts);
        // An explicit aws provider (the resource's, or its parent's): golden-ami acts with its settings.
        const aws = awsProviderOf(opts);
        super(
            shimFor(kind),
            name,
            {
                imageId: undefined,
                snapshotIds: undefined,
                state: undefined,
                creationDate: undefined,
                ownerId: undefined,
                architecture: undefined,
                rootDeviceName: undefined,
                blockDeviceMappings: undefined,
                lineage: undefined,
                generation: undefined,
                retentionReport: undefined,
                retention: args.retention,
                onDestroy: args.onDestroy,
                ssmParameterName: args.ssmParameterName,
                name: args.name,
                region: args.region,
                tags: args.tags,
                snapshotTags: args.snapshotTags,
                ...distributionOutputSlots(args),
                ...props,
                ...(aws ? { awsProvider: explicitSettings(name, aws) } : {}),
                resourceUrn: ownUrn(name, `pulumi-nodejs:dynamic/golden-ami:${kind}`, opts?.parent),
            },
            withoutAwsProvider(opts),
            "golden-ami",
            kind,
        );
    }

    /** Warnings the inputs alone show: a region the SDK does not list, customTimeouts that cannot reach a dynamic provider. */
    private static warnAbout(name: string, args: ImageResourceArgs, opts: pulumi.CustomResourceOptions | undefined): void {
        for (const region of [args.region, (args as { sourceRegion?: unknown }).sourceRegion]) {
            const warning = typeof region === "string" ? regionWarning(region) : undefined;
            if (warning) pulumi.log.warn(`${name}: ${warning}`);
        }
        if (opts?.customTimeouts) {
            pulumi.log.warn(
                `${name}: customTimeouts are not passed to dynamic providers, so golden-ami cannot honour them; ` +
                    "use the resource's own timeouts instead (imageTimeoutMinutes; for an InstanceImage also stopTimeoutMinutes and provisioningTimeoutMinutes)",
            );
        }
    }
}
