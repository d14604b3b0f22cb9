/**
 * `GoldenImage`'s arguments and their validation: the typed Args (with their TSDoc) and the
 * checks a GoldenImage runs before it makes any child, so bad input fails at preview naming
 * the field. Kept apart from the component (golden-image.ts), as awsx keeps a component's args.
 */
import * as pulumi from "@pulumi/pulumi";
import { BuilderArgs, BuilderRootVolumeArgs } from "../providers/resources/builder";
import { DistributionInputs } from "../providers/resources/distribution-inputs";
import { GoldenAmiError } from "../providers/core/errors";
import { regionProblem } from "../providers/core/region";
import { ROLE_ARN } from "../providers/core/aws-settings";
import { AfterImage, ImageBlockDevice, SUCCESS_MARKER, VerifySettings } from "../providers/core/options";
import type { OnDestroy, RetentionArgs, RetentionReport } from "../providers/core/lineage";
import { ID_PATTERNS } from "../providers/lifecycle/checks";
import { BaseImageArgs } from "./base-image";

/**
 * When the builder counts as ready to be imaged.
 * - `"self-stop"`: the customisation script powers the instance off when it is done
 *   (`shutdown -h now` / `poweroff` as its last command; the builder's shutdown behaviour is
 *   "stop", so it stays, stopped). golden-ami waits for the instance to be `stopped`.
 * - `"status-ok"`: the instance is `running` and its system and instance status checks pass.
 * - `"none"`: no wait; the instance is stopped (unless `stopBeforeImage` is false) and imaged
 *   at once.
 */
export type Readiness = "self-stop" | "status-ok" | "none";

export const READINESS_VALUES: readonly Readiness[] = ["self-stop", "status-ok", "none"];

/** The InstanceImage `waitForBuilder` value for each {@link Readiness}. */
export const WAIT_FOR_BUILDER: Record<Readiness, "stopped" | "status-ok" | "none"> = {
    "self-stop": "stopped",
    "status-ok": "status-ok",
    none: "none",
};

/** The builder's root EBS volume (the Builder resource's own type). */
export type RootVolumeArgs = BuilderRootVolumeArgs;

/**
 * The builder: an EC2 instance golden-ami launches from a base image (a Builder resource),
 * customised by its user data. It always requires IMDSv2 (`httpTokens: "required"`), stops
 * when the operating system shuts down, and is replaced — not updated — when its recipe
 * changes. Once the image is available it is terminated (`keepBuilder: true` keeps it stopped).
 */
export interface GoldenImageBuilderArgs
    extends Pick<BuilderArgs, "instanceType" | "subnetId" | "vpcSecurityGroupIds" | "iamInstanceProfile" | "keyName" | "userData" | "volumes" | "tags"> {
    /** The base image's AMI ID (`ami-...`). Exactly one of `baseImageId` and `baseImage`. */
    baseImageId?: pulumi.Input<string>;
    /**
     * A base image lookup (SSM parameter, or owners + name pattern; see `baseImage()`),
     * resolved in the build region unless the query names one. Exactly one of `baseImageId`
     * and `baseImage`. The lookup runs on every `pulumi up`: when a newer image matches, the
     * recipe has changed and the golden image is rebuilt.
     */
    baseImage?: BaseImageArgs;
    /** The builder's root volume (encrypted by default). */
    rootVolume?: RootVolumeArgs;
}

/**
 * Distribution settings applied to the image and to every copy (DistributionInputs of
 * providers/ec2/distribution.ts): launch permissions for accounts / organizations / OUs,
 * public (explicit opt-in only), snapshot create-volume permissions, deprecation time,
 * deregistration protection. All changed in place; none rebuilds the image.
 */
export type GoldenImageDistribution = DistributionInputs;

/** How the copies in `copyToRegions` are made. */
export interface GoldenImageCopyArgs {
    /** Encrypt the copies' snapshots. Default: as the source. */
    encrypted?: pulumi.Input<boolean>;
    /** KMS key per destination region (`{ "eu-west-1": "arn:aws:kms:..." }`); KMS keys are regional. */
    kmsKeyIds?: Record<string, pulumi.Input<string>>;
    /** Copy the source image's user tags to the copies (besides `tags`). Default false. */
    copyImageTags?: pulumi.Input<boolean>;
    /** How long each copy may take to become available, in minutes. Default: `imageTimeoutMinutes`. */
    imageTimeoutMinutes?: pulumi.Input<number>;
    /**
     * An explicit `aws.Provider` per destination region (`{ "ap-southeast-2": apProvider }`):
     * that copy is made with the provider's region, profile, roles and default tags (another
     * account, for example) instead of the component's. Only its non-secret settings are kept
     * in state; a provider with static keys, endpoints or shared file paths is refused.
     */
    providers?: Record<string, pulumi.ProviderResource>;
}

/**
 * A copy of the image into another AWS account: made there under that account's role, from the
 * source shared with it for the copy only (the share is withdrawn once the copy is available or
 * has failed); retired, retained and destroyed there like any copy.
 */
export interface GoldenImageAccountCopyArgs {
    /** The target account (12 digits); not the build account. */
    accountId: string;
    /**
     * The role in the target account golden-ami assumes for the copy (`arn:aws:iam::<accountId>:role/<name>`),
     * on top of the component's credentials; it needs docs/iam-policy-target.json.
     */
    roleArn: string;
    /** Session name for the role. Default "golden-ami". */
    roleSessionName?: string;
    /** Regions of the target account to copy into. Default: the build region. */
    regions?: string[];
    /** KMS key of the target account per region, to re-encrypt the copy with (needed for an encrypted source; see README). */
    kmsKeyIds?: Record<string, pulumi.Input<string>>;
    /** Who may use the copies in the target account, deprecation and protection. Default: none (private to the account). */
    distribution?: GoldenImageDistribution;
}

/** Arguments of a {@link GoldenImage}. */
export interface GoldenImageArgs {
    /**
     * Region of the builder and the image. Default: the region of the component's explicit `aws`
     * provider (`provider` / `providers: { aws }`, or its parent's) when it has one, else the
     * stack's `aws:region`, else AWS_REGION / AWS_DEFAULT_REGION.
     */
    region?: string;

    /** Build from a base image with a new builder instance. Exactly one of `builder` and `existingInstanceId`. */
    builder?: GoldenImageBuilderArgs;
    /**
     * Capture an existing instance (a server customised by hand) instead of building one.
     * The instance is stopped to be imaged (unless `stopBeforeImage` is false), never
     * terminated. Exactly one of `builder` and `existingInstanceId`. Changing it rebuilds.
     */
    existingInstanceId?: pulumi.Input<string>;

    /**
     * When the instance is ready to be imaged. Default: `"self-stop"` for a builder with
     * `userData`, `"status-ok"` for a builder without, `"none"` for `existingInstanceId`.
     */
    readiness?: Readiness;
    /** How long the builder may take to become ready, in minutes. Default 30. */
    provisioningTimeoutMinutes?: pulumi.Input<number>;
    /**
     * Keep the builder, stopped, once its image exists (to inspect it). Default false: it is
     * terminated as soon as the image is available. A kept builder is terminated when a recipe
     * change has made the next generation, or on destroy.
     */
    keepBuilder?: boolean;

    /**
     * Start of the AMI name. The name is this plus a hash of the recipe (so each rebuild gets
     * a name of its own and never collides with the image it replaces). Default: the
     * component's name. The copies carry the same name in their regions.
     */
    namePrefix?: string;
    /** AMI description (at most 255 characters), on the image and the copies. Updated in place. */
    description?: pulumi.Input<string>;
    /** Tags of the image and the copies. Updated in place. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Tags of the image's and the copies' snapshots. Updated in place. */
    snapshotTags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Overrides of the instance's block devices in the image (leave out or enlarge volumes). Part of the recipe. */
    blockDeviceMappings?: pulumi.Input<pulumi.Input<ImageBlockDevice>[]>;
    /** Stop the instance before imaging (default true; false = crash-consistent NoReboot image). Part of the recipe. */
    stopBeforeImage?: pulumi.Input<boolean>;
    /**
     * The instance's state once imaged: `"stopped"`, `"running"` or `"terminated"`. Default:
     * `"terminated"` for a builder (`"stopped"` with `keepBuilder`), `"stopped"` for an existing instance.
     */
    afterImage?: pulumi.Input<AfterImage>;
    /** How long stopping or starting the instance may take, in minutes (default 10). */
    stopTimeoutMinutes?: pulumi.Input<number>;
    /** How long the image may take to become available with all snapshots completed, in minutes (default 60). */
    imageTimeoutMinutes?: pulumi.Input<number>;

    /**
     * Regions to copy the image to (one ImageCopy each, made concurrently). Not the build
     * region, no duplicates. Adding a region adds a copy; removing one deletes its copy.
     */
    copyToRegions?: string[];
    /** How the copies are made. */
    copies?: GoldenImageCopyArgs;
    /**
     * Copies into other accounts (one ImageCopy per account and region, under that account's
     * role). An encrypted image (the builder's root volume is, by default) needs a customer
     * managed key (`builder.rootVolume.kmsKeyId`): one on `aws/ebs` cannot be shared, and its
     * copies are refused.
     */
    copyToAccounts?: GoldenImageAccountCopyArgs[];

    /** Who may use the image and its copies, deprecation and deregistration protection. */
    distribution?: GoldenImageDistribution;

    /**
     * The verification gate: after the image is available and before any copy or sharing, a
     * test instance is launched from it in the build region (`instanceType`, `subnetId`,
     * `vpcSecurityGroupIds`, `userData`, `timeoutMinutes`), judged, and terminated. It passes
     * when the instance runs with both status checks passed, or, with `userData` (a test
     * script), when the script prints `GOLDEN-AMI-OK` and powers the instance off. On failure
     * nothing is copied or shared, the image is deleted, the builder terminated, and the
     * error shows the test instance's console tail. A change of `verify` makes a new build.
     */
    verify?: VerifySettings;

    /**
     * Which retired generations of the image and of each copy stay after a rebuild (see
     * InstanceImage's `retention`): `keep` (2), `minAge`, `launchedWithin` ("14d"), `disableAfter` (unset: never).
     */
    retention?: pulumi.Input<RetentionArgs>;
    /** `"delete"` (default): destroy removes every generation in every region; `"retain"` keeps the current one. */
    onDestroy?: pulumi.Input<OnDestroy>;

    /**
     * Publish the AMI ID of each region in an SSM parameter of that region (data type
     * `aws:ec2:image`): `true` for `/golden-ami/<name>/latest`, or `{ parameterName }`. Each
     * region's parameter is set once its image is available and distributed; destroy deletes them.
     */
    publish?: boolean | { parameterName?: string };
}

/** Region → AMI ID of every image a {@link GoldenImage} manages, the build region included. */
export type RegionImageIds = Record<string, string>;

function fail(message: string): never {
    throw new GoldenAmiError(`golden-ami: GoldenImage ${message}`, "InvalidArguments");
}

/** The readiness a GoldenImage uses: the given one, else the default for its kind of source. */
export function effectiveReadiness(args: Pick<GoldenImageArgs, "readiness" | "builder" | "existingInstanceId">): Readiness {
    if (args.readiness !== undefined) return args.readiness;
    if (args.existingInstanceId !== undefined) return "none";
    return args.builder?.userData !== undefined ? "self-stop" : "status-ok";
}

/** Validates the arguments that decide the shape of the component (everything else is checked by the resources). */
export function validateGoldenImageArgs(name: string, args: GoldenImageArgs, buildRegion: string | undefined): void {
    const hasBuilder = args.builder !== undefined && args.builder !== null;
    const hasExisting = args.existingInstanceId !== undefined && args.existingInstanceId !== null;
    if (hasBuilder && hasExisting) {
        fail(
            `"${name}": give either \`builder\` (build from a base image) or \`existingInstanceId\` (capture an existing ` +
                `instance), not both.`,
        );
    }
    if (!hasBuilder && !hasExisting) {
        fail(
            `"${name}": nothing to image. Give \`builder\` (a base image and user data to build from) or ` +
                `\`existingInstanceId\` (an instance customised by hand to capture).`,
        );
    }
    if (hasBuilder) {
        const b = args.builder!;
        if (b.baseImageId !== undefined && b.baseImage !== undefined) {
            fail(`"${name}": give either builder.baseImageId or builder.baseImage (a lookup), not both.`);
        }
        if (b.baseImageId === undefined && b.baseImage === undefined) {
            fail(
                `"${name}": the builder needs a base image: set builder.baseImageId ("ami-...") or builder.baseImage ` +
                    `(e.g. { ssmParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" }).`,
            );
        }
        // Shapes the program alone shows (values still unknown are checked by the Builder at preview).
        if (typeof b.baseImageId === "string" && !ID_PATTERNS.image.test(b.baseImageId)) {
            fail(`"${name}": builder.baseImageId "${b.baseImageId}" is not an AMI ID (ami- followed by 8 or 17 lowercase hex digits).`);
        }
        if (typeof b.subnetId === "string" && !ID_PATTERNS.subnet.test(b.subnetId)) {
            fail(`"${name}": builder.subnetId "${b.subnetId}" is not a subnet ID (subnet- followed by 8 or 17 lowercase hex digits); pass the subnet's ID, not its name or CIDR.`);
        }
        for (const sg of Array.isArray(b.vpcSecurityGroupIds) ? b.vpcSecurityGroupIds : []) {
            if (typeof sg === "string" && !ID_PATTERNS["security group"].test(sg)) {
                fail(`"${name}": builder.vpcSecurityGroupIds lists "${sg}", which is not a security group ID (sg- followed by 8 or 17 lowercase hex digits).`);
            }
        }
    }
    if (args.verify !== undefined) {
        const v = args.verify as unknown;
        if (typeof v !== "object" || v === null || Array.isArray(v)) fail(`"${name}": verify must be an object { instanceType?, subnetId?, vpcSecurityGroupIds?, userData?, timeoutMinutes? }.`);
        const userData = args.verify.userData as unknown;
        if (typeof userData === "string" && !userData.includes(SUCCESS_MARKER)) {
            fail(
                `"${name}": verify.userData is a test script with no way to say it passed: it must print ${SUCCESS_MARKER} and power the ` +
                    `instance off when the test passes (e.g. \`curl -fs localhost && echo ${SUCCESS_MARKER}; shutdown -h now\`). ` +
                    `Leave verify.userData out to judge the image by its status checks alone.`,
            );
        }
        if (typeof args.verify.subnetId === "string" && !ID_PATTERNS.subnet.test(args.verify.subnetId)) {
            fail(`"${name}": verify.subnetId "${args.verify.subnetId}" is not a subnet ID (subnet- followed by 8 or 17 lowercase hex digits).`);
        }
    }
    if (args.keepBuilder !== undefined && !hasBuilder) {
        fail(`"${name}": keepBuilder applies to a builder golden-ami launches; an existing instance (existingInstanceId) is never terminated. Remove keepBuilder.`);
    }
    if (args.readiness !== undefined && !READINESS_VALUES.includes(args.readiness)) {
        fail(`"${name}": readiness must be one of ${READINESS_VALUES.map((r) => `"${r}"`).join(", ")}, not ${JSON.stringify(args.readiness)}.`);
    }
    const seen = new Set<string>();
    for (const region of args.copyToRegions ?? []) {
        if (typeof region !== "string") fail(`"${name}": copyToRegions must list region names, got ${JSON.stringify(region)}.`);
        const problem = regionProblem(region);
        if (problem) {
            // An AZ of the build region is the commonest mistake: the image is there already.
            const zoneOfBuild = buildRegion !== undefined && region.startsWith(buildRegion) && region !== buildRegion;
            fail(`"${name}": copyToRegions: ${problem}${zoneOfBuild ? `; and ${buildRegion} is the build region, which needs no copy: remove it` : ""}.`);
        }
        if (seen.has(region)) fail(`"${name}": copyToRegions lists ${region} twice; remove the duplicate.`);
        if (region === buildRegion) {
            fail(`"${name}": copyToRegions lists ${region}, the build region, which has the image already; remove it.`);
        }
        seen.add(region);
    }
    for (const region of Object.keys(args.copies?.kmsKeyIds ?? {})) {
        if (!seen.has(region)) fail(`"${name}": copies.kmsKeyIds names ${region}, which is not in copyToRegions.`);
    }
    validateAccountCopies(name, args.copyToAccounts);
    refuseAwsManagedKeyForAccounts(name, args);
    for (const [region, provider] of Object.entries(args.copies?.providers ?? {})) {
        if (!seen.has(region)) fail(`"${name}": copies.providers names ${region}, which is not in copyToRegions.`);
        if (!pulumi.ProviderResource.isInstance(provider)) fail(`"${name}": copies.providers.${region} must be an aws.Provider resource.`);
    }
}

/** copyToAccounts: 12-digit account IDs, each once, a role ARN of that account, valid regions each once, keys only for listed regions. */
function validateAccountCopies(name: string, targets: GoldenImageAccountCopyArgs[] | undefined): void {
    const accounts = new Set<string>();
    (targets ?? []).forEach((t, i) => {
        const at = `copyToAccounts[${i}]`;
        if (!t || typeof t !== "object") fail(`"${name}": ${at} must be an object { accountId, roleArn, regions?, kmsKeyIds?, distribution? }.`);
        if (typeof t.accountId !== "string" || !/^\d{12}$/.test(t.accountId)) fail(`"${name}": ${at}.accountId must be a 12-digit AWS account ID (as a string), not ${JSON.stringify(t.accountId)}.`);
        if (accounts.has(t.accountId)) fail(`"${name}": copyToAccounts lists account ${t.accountId} twice; give it once, with all its regions.`);
        accounts.add(t.accountId);
        const arn = typeof t.roleArn === "string" ? ROLE_ARN.exec(t.roleArn) : null;
        if (!arn) fail(`"${name}": ${at}.roleArn ${JSON.stringify(t.roleArn)} is not an IAM role ARN; it looks like "arn:aws:iam::${t.accountId}:role/golden-ami-target".`);
        if (arn[1] !== t.accountId) fail(`"${name}": ${at}.roleArn is a role of account ${arn[1]}, but accountId is ${t.accountId}; the copy is made in the role's account, so give a role of ${t.accountId}.`);
        const regions = new Set<string>();
        for (const region of t.regions ?? []) {
            const problem = typeof region === "string" ? regionProblem(region) : "not a region name";
            if (problem) fail(`"${name}": ${at}.regions: ${problem}.`);
            if (regions.has(region)) fail(`"${name}": ${at}.regions lists ${region} twice; remove the duplicate.`);
            regions.add(region);
        }
        for (const region of Object.keys(t.kmsKeyIds ?? {})) {
            if (t.regions && !regions.has(region)) fail(`"${name}": ${at}.kmsKeyIds names ${region}, which is not in its regions.`);
        }
    });
}

/**
 * A builder's root volume is encrypted by default with the account's `aws/ebs` key, which AWS
 * never lets another account use: with copyToAccounts every copy would be refused at create.
 * Said at construction when the arguments alone show it (plain values, not Outputs).
 */
function refuseAwsManagedKeyForAccounts(name: string, args: GoldenImageArgs): void {
    const root = args.builder?.rootVolume;
    if (!args.copyToAccounts?.length || !args.builder || root?.kmsKeyId !== undefined) return;
    if (root?.encrypted !== undefined && root.encrypted !== true) return;
    fail(
        `"${name}": copyToAccounts needs builder.rootVolume.kmsKeyId: the builder's root volume is encrypted with the account's aws/ebs key by default, ` +
            `which cannot be shared with another account. Give a customer managed key (its key policy letting the build account create grants), or set builder.rootVolume.encrypted to false.`,
    );
}

/** The SSM parameter a GoldenImage publishes in (every region), or undefined. */
export function publishedParameterName(name: string, publish: GoldenImageArgs["publish"]): string | undefined {
    if (!publish) return undefined;
    return (publish === true ? undefined : publish.parameterName) ?? `/golden-ami/${name.replace(/[^A-Za-z0-9_.-]/g, "-")}/latest`;
}
