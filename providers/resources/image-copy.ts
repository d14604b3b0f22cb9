/**
 * ImageCopy, the program-side resource: a copy of an AMI into a region (usually another
 * one), waited for until it is available and every EBS snapshot has completed. The provider
 * side is lifecycle/image-copy.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { explicitSettings } from "./aws-provider";
import { ImageResource, ImageResourceArgs } from "./image-resource";

/** Arguments of an {@link ImageCopy}; the shared ones ({@link ImageResourceArgs}, distribution included) are changed in place. */
export interface ImageCopyArgs extends ImageResourceArgs {
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
     * The AWS account the copy is made in (12 digits), for a copy into another account than the
     * source's. Only that account may be acted in (checked with STS before any change). Default:
     * the account of `roleArn`, else the one the copy's credentials act as. Changing it (or a
     * `roleArn` of another account) makes a new copy; another role of the same account updates in place.
     */
    accountId?: pulumi.Input<string>;
    /**
     * An IAM role of the account the copy is made in (`arn:aws:iam::<account>:role/<name>`):
     * the copy, its distribution, retention and delete act as this role, assumed on top of the
     * copy's provider's (or the stack's) credentials. Its account must be `accountId` when both
     * are given. The target-account policy (docs/iam-policy-target.json) is what it needs.
     */
    roleArn?: pulumi.Input<string>;
    /** Session name for `roleArn`. Default "golden-ami". */
    roleSessionName?: pulumi.Input<string>;
    /**
     * Share the source image (launch permission) and its snapshots (create-volume permission)
     * with the copy's account while the copy is made, as the source's owner (`sourceProvider`,
     * else the credentials the role is assumed with, else the stack's), and withdraw the share
     * once the copy is available or has failed. Only what was missing is added and withdrawn.
     * For an encrypted source, the source's KMS key must allow the copy's account (see README,
     * "Copies into other accounts"). Default false.
     */
    shareSource?: pulumi.Input<boolean>;
    /**
     * The `aws.Provider` that owns the source image, to share it with (`shareSource`). Default:
     * the copy's own provider under `roleArn`, else the stack's settings. Only its non-secret
     * settings are kept in state.
     */
    sourceProvider?: pulumi.ProviderResource;
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
    /** The account the copy is made in, when declared (`accountId`). */
    declare public readonly accountId: pulumi.Output<string | undefined>;
    /** Tags copied from the source image (copyImageTags), reported apart from `tags`. */
    declare public readonly copiedTags: pulumi.Output<Record<string, string> | undefined>;

    constructor(name: string, args: ImageCopyArgs, opts?: pulumi.CustomResourceOptions) {
        const { sourceProvider, ...rest } = args;
        super(
            "ImageCopy",
            name,
            args,
            {
                ...rest,
                sourceRegion: args.sourceRegion,
                encrypted: args.encrypted,
                kmsKeyId: args.kmsKeyId,
                copiedTags: undefined,
                ...(sourceProvider ? { sourceAwsProvider: explicitSettings(name, sourceProvider) } : {}),
            },
            opts,
        );
    }
}
