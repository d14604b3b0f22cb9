/**
 * The ImageCopy kind of the image lifecycle: a copy of an AMI into a region (another one, or
 * its own under another name). Its own part: CopyImage with an idempotent ClientToken
 * (ec2/copy-image.ts), encryption, and the source's tags copied on request (CopyImageTags),
 * kept apart from the declared tags as `copiedTags`. Copies into several regions wait side by
 * side; within one destination region they take copy slots (copy-slots.ts), EC2's quota of
 * snapshot copies in flight. A copy into another account (`roleArn`, acting as that account's
 * role through acting.ts) with `shareSource` first shares its source with that account, as the
 * source's owner (ec2/copy-share.ts), and withdraws the share once the copy is ready or given
 * up (`settle`); until then the share is in state (`temporaryShare`), so a later run withdraws it.
 */
import type { Image } from "@aws-sdk/client-ec2";
import { ROLE_ARN } from "../core/aws-settings";
import { GoldenAmiError } from "../core/errors";
import { MARKER_TAGS } from "../core/naming";
import { COMPLETION_MINUTES } from "../core/options";
import { regionProblem } from "../core/region";
import { fromTagList, nonEmpty, TagMap, withoutMarkerTags } from "../core/tags";
import { copyImage } from "../ec2/copy-image";
import { describeImage, imageSnapshotIds } from "../ec2/images";
import { updateTags } from "../ec2/labels";
import { shareForCopy, sourceOwner, TemporaryShare, withdrawShare } from "../ec2/copy-share";
import { currentSettings } from "../ec2/client";
import { callerIdentity } from "../ec2/identity";
import { actingAsSource } from "./acting";
import { Checker, isUnknown } from "./checks";
import { defaulted, ImageInputs, ImageKind, ImageState } from "./image-kind";

/** The normalised inputs the provider works with (after `check`). */
export interface ImageCopyInputs extends ImageInputs {
    sourceImageId: string;
    sourceRegion: string;
    encrypted: boolean;
    kmsKeyId?: string;
    copyImageTags: boolean;
    snapshotCopyCompletionDurationMinutes?: number;
    /** The account the copy is made in (a copy into another account); default: the account the copy's credentials act as. */
    accountId?: string;
    /** The role in that account the copy acts as (assumed on top of its provider's or the stack's credentials). */
    roleArn?: string;
    roleSessionName?: string;
    /** Share the source with the copy's account while it is copied (as the source's owner), and withdraw the share after. */
    shareSource: boolean;
}

/** Everything the provider keeps in state: the inputs plus what EC2 reports about the copy. */
export interface ImageCopyOutputs extends ImageCopyInputs, ImageState {
    /** The source image's tags that `copyImageTags` put on the copy; kept apart from `tags`. */
    copiedTags?: TagMap;
    /** The source's share with the copy's account, while it is not withdrawn yet (a copy not ready). */
    temporaryShare?: TemporaryShare;
}

/** Shares made by this process, by copy (its URN, region and name): null once withdrawn. */
const outstanding = new Map<string, TemporaryShare | null>();

/** Forget this process's shares (tests of a later run, which knows only what state recorded). */
export function forgetShares(): void {
    outstanding.clear();
}

/** The share still to withdraw: this process's, else the one state recorded (a run that stopped before). */
function pendingShare(inputs: ImageCopyInputs, recorded: TemporaryShare | undefined): TemporaryShare | undefined {
    const mine = outstanding.get(shareKey(inputs));
    return mine === null ? undefined : mine ?? recorded;
}

function shareKey(inputs: Pick<ImageCopyInputs, "resourceUrn" | "region" | "name">): string {
    return `${inputs.resourceUrn ?? ""}/${inputs.region}/${inputs.name}`;
}

/** The account the copy is made in: the declared one, else the role's, else who its credentials act as. */
async function copyAccount(inputs: ImageCopyInputs): Promise<string> {
    const declared = inputs.accountId ?? (inputs.roleArn ? ROLE_ARN.exec(inputs.roleArn)?.[1] : undefined);
    return declared ?? (await callerIdentity(inputs.region)).account;
}

/**
 * Shares the source with the copy's account (as the source's owner), refusing a "copy into
 * another account" whose account is the source's own before anything is changed.
 */
async function shareSource(inputs: ImageCopyInputs, step: { progress(m: string): void }): Promise<void> {
    const account = await copyAccount(inputs);
    const share = await actingAsSource(inputs as unknown as Record<string, unknown>, async () => {
        const owner = await sourceOwner(inputs.sourceRegion, inputs.sourceImageId);
        if (owner === account) {
            throw new GoldenAmiError(
                `golden-ami: accountId: the copy is to be made in account ${account}, which owns the source image ${inputs.sourceImageId} already; nothing was changed. ` +
                    "What to do: copy into another account, or leave shareSource/roleArn out for a copy in the same account.",
                "SameAccount",
            );
        }
        step.progress(`sharing source image ${inputs.sourceImageId} (${inputs.sourceRegion}) with account ${account} for the copy`);
        return shareForCopy(inputs.sourceRegion, inputs.sourceImageId, account);
    });
    outstanding.set(shareKey(inputs), share);
}

/** How long `check` waits for the source image's name (same-region copies only) before it lets create judge. */
const CHECK_LOOKUP_MS = 10_000;

// KMS key identifiers CopyImage accepts: key ID (multi-Region keys start with mrk-), alias, key ARN, alias ARN.
const KMS_KEY_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const KMS_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

function sourceMarker(inputs: Pick<ImageCopyInputs, "sourceRegion" | "sourceImageId">): string {
    return `${inputs.sourceRegion}/${inputs.sourceImageId}`;
}

function minusKeys(tags: TagMap, keys: object | undefined): TagMap {
    const drop = new Set(Object.keys(keys ?? {}));
    return Object.fromEntries(Object.entries(tags).filter(([k]) => !drop.has(k)));
}

/** The source's tags that CopyImageTags put on the copy: the copy's own tags minus markers and the declared ones. */
function copiedTagsOf(inputs: ImageCopyInputs, image: Image): TagMap {
    return inputs.copyImageTags ? minusKeys(withoutMarkerTags(fromTagList(image.Tags)), inputs.tags) : {};
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

/** accountId (12 digits), roleArn (an IAM role ARN of that account), shareSource, and a sourceAwsProvider only to share. */
function checkTargetAccount(c: Checker, n: Record<string, unknown>): void {
    const { accountId, roleArn } = n;
    if (c.string("accountId", accountId) && !/^\d{12}$/.test(accountId)) {
        c.fail("accountId", `accountId: "${accountId}" is not an AWS account ID (12 digits, e.g. "111122223333")`);
    }
    if (c.string("roleArn", roleArn)) {
        const arn = ROLE_ARN.exec(roleArn);
        if (!arn) {
            c.fail("roleArn", `roleArn: "${roleArn}" is not an IAM role ARN; it looks like "arn:aws:iam::111122223333:role/golden-ami-target"`);
        } else if (typeof accountId === "string" && /^\d{12}$/.test(accountId) && arn[1] !== accountId) {
            c.fail("roleArn", `roleArn: the role "${roleArn}" is in account ${arn[1]}, but accountId is ${accountId}; the copy is made in the role's account, so use a role of ${accountId}`);
        }
    }
    c.boolean("shareSource", n.shareSource);
    if (n.sourceAwsProvider !== undefined && n.shareSource !== true && !isUnknown(n.shareSource)) {
        c.fail("sourceProvider", "sourceProvider: the source's provider is only used to share the source with the copy's account; set shareSource to true, or remove sourceProvider");
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

/** What `look` finds, or undefined if it cannot tell quickly (create then judges). */
async function quickly<T>(look: () => Promise<T | undefined>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), CHECK_LOOKUP_MS);
        timer.unref?.();
    });
    try {
        return await Promise.race([look(), timeout]);
    } catch {
        return undefined;
    } finally {
        clearTimeout(timer);
    }
}

/** The source image's name, or undefined if it cannot be found quickly. */
function sourceImageName(region: string, imageId: string): Promise<string | undefined> {
    return quickly(() => describeImage(region, imageId).then((image) => image?.Name));
}

/**
 * A copy into another account whose account is the one the source is shared from (the
 * source's credentials act as it) is refused at preview, naming accountId; when STS cannot tell
 * quickly (or is skipped), create refuses it before any change instead.
 */
async function checkOtherAccount(c: Checker, inputs: Record<string, unknown>): Promise<void> {
    const { accountId, roleArn, sourceRegion } = inputs;
    const target = typeof accountId === "string" ? accountId : typeof roleArn === "string" ? ROLE_ARN.exec(roleArn)?.[1] : undefined;
    if (!target || typeof sourceRegion !== "string" || inputs.shareSource !== true) return;
    const source = await quickly(() =>
        actingAsSource(inputs, async () => (currentSettings().skipCredentialsValidation ? undefined : (await callerIdentity(sourceRegion)).account)),
    );
    if (source === target) {
        c.fail(
            "accountId",
            `accountId: the copy is to be made in account ${target}, which is the account the source is shared from; a copy into another account needs another account ` +
                "(or leave roleArn and shareSource out for a copy in the same account)",
        );
    }
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

export const imageCopyKind: ImageKind<ImageCopyInputs, ImageCopyOutputs> = {
    noun: "copy",
    replaceKeys: ["sourceImageId", "sourceRegion", "region", "name", "encrypted", "kmsKeyId", "accountId"],
    // The last two are only recorded: they matter when the copy is made or waited for.
    updateKeys: [
        "description", "tags", "snapshotTags", "copyImageTags", "snapshotCopyCompletionDurationMinutes", "imageTimeoutMinutes",
        // Who acts for the copy and its source: recorded, so later runs (and destroy) act as the same identities.
        "roleArn", "roleSessionName", "shareSource", "sourceAwsProvider",
    ],

    check(c: Checker, n: Record<string, unknown>, _olds, region) {
        if (c.required("sourceImageId", n.sourceImageId, "the ID of the image to copy (ami-...)")) c.id("sourceImageId", n.sourceImageId, "image");
        c.region("sourceRegion", n.sourceRegion);
        const sourceRegion = defaulted(c, "sourceRegion", n.sourceRegion);
        c.boolean("encrypted", n.encrypted);
        checkKmsKey(c, n.kmsKeyId, n.encrypted, region);
        c.boolean("copyImageTags", n.copyImageTags);
        checkCompletionDuration(c, n.snapshotCopyCompletionDurationMinutes);
        checkTargetAccount(c, n);
        return {
            sourceRegion,
            // A key implies encryption (EC2 refuses a key without Encrypted).
            encrypted: n.encrypted ?? (n.kmsKeyId !== undefined && n.kmsKeyId !== null),
            copyImageTags: n.copyImageTags ?? false,
            shareSource: n.shareSource ?? false,
            // The account a role acts in is the copy's: another role's account makes another copy (replaceKeys).
            ...(n.accountId === undefined && typeof n.roleArn === "string" && ROLE_ARN.test(n.roleArn) ? { accountId: ROLE_ARN.exec(n.roleArn)![1] } : {}),
        };
    },

    async checkFinal(c, inputs, olds) {
        const { name, region, sourceRegion, sourceImageId } = inputs;
        // In another account the copy may carry its source's name (names are unique per account and region).
        if (inputs.shareSource === true || typeof inputs.roleArn === "string") return checkOtherAccount(c, inputs);
        if (typeof name !== "string" || region !== sourceRegion || typeof sourceImageId !== "string" || name === olds.name) return;
        // A copy into the source's own region cannot share its name (names are unique per region).
        if ((await sourceImageName(region as string, sourceImageId)) === name) {
            c.fail("name", `name: "${name}" is the name of the source image ${sourceImageId}; a copy into its own region (${region}) needs another name (or leave name out for a derived one)`);
        }
    },

    identity: (i) => ({ sourceImageId: i.sourceImageId, sourceRegion: i.sourceRegion, region: i.region, encrypted: i.encrypted, kmsKeyId: i.kmsKeyId ?? null }),
    origin: (i) => ({ [MARKER_TAGS.sourceImage]: sourceMarker(i) }),
    originText: (i) => `copy it from ${sourceMarker(i)}`,
    foreignAdvice: () => "choose another name, or leave name out for a derived one.",
    refuseExisting(existing, inputs) {
        if (existing.ImageId !== inputs.sourceImageId) return;
        throw new GoldenAmiError(
            `golden-ami: "${inputs.name}" is the name of the source image ${inputs.sourceImageId} itself; a copy into its own region (${inputs.region}) needs another name. ` +
                `What to do: set name to something else, or leave it out for a derived one.`,
            "InvalidAMIName.Duplicate",
        );
    },
    making: (i) => `copying image ${i.sourceImageId} from ${i.sourceRegion} to ${i.region} as "${i.name}"`,

    /** As many copy slots in the destination as the source has snapshots (looked up once per source). */
    async reserve(inputs, step) {
        if (!step.copySlots) return undefined;
        const source = sourceMarker(inputs);
        const weight = await step.copySlots.weightOf(source, async () => {
            const image = await describeImage(inputs.sourceRegion, inputs.sourceImageId);
            return image ? Math.max(1, imageSnapshotIds(image).length) : 1;
        });
        return step.copySlots.acquire(inputs.region, source, weight, step.progress);
    },

    async make(inputs, imageTags, snapshotTags, step) {
        if (inputs.shareSource) await shareSource(inputs, step);
        step.progress(`copying image ${inputs.sourceImageId} from ${inputs.sourceRegion} to ${inputs.region} as ${inputs.name}`);
        return copyImage(
            inputs.region,
            {
                sourceImageId: inputs.sourceImageId,
                sourceRegion: inputs.sourceRegion,
                name: inputs.name,
                description: inputs.description,
                encrypted: inputs.encrypted,
                kmsKeyId: inputs.kmsKeyId,
                copyImageTags: inputs.copyImageTags,
                completionDurationMinutes: inputs.snapshotCopyCompletionDurationMinutes,
                imageTags,
                snapshotTags,
            },
            step,
        );
    },

    async settle(inputs, step, olds) {
        const share = pendingShare(inputs, olds?.temporaryShare);
        if (!share) return;
        step.progress(`withdrawing the temporary share of source image ${share.imageId} with account ${share.account}`);
        await actingAsSource(inputs as unknown as Record<string, unknown>, () => withdrawShare(share));
        outstanding.set(shareKey(inputs), null);
    },

    pending: (inputs) => ({ temporaryShare: pendingShare(inputs, undefined) }),

    async finish(inputs, image, _step, change) {
        if (!change) return { copiedTags: copiedTagsOf(inputs, image) };
        const { olds, resuming } = change;
        let copiedTags = olds.copiedTags ?? {};
        if (resuming && olds.copiedTags === undefined) copiedTags = copiedTagsOf(inputs, (await describeImage(inputs.region, image.ImageId!)) ?? image);
        if ((olds.copyImageTags ?? false) !== inputs.copyImageTags) copiedTags = await syncCopiedTags(inputs, image.ImageId!, copiedTags);
        return { copiedTags };
    },

    /** The declared tags, and the copied ones apart from them (unless the user declares the same key). */
    outputs(shared, inputs, image, extra) {
        const copiedTags = extra.copiedTags ?? {};
        const declared = inputs.tags ?? {};
        const live = withoutMarkerTags(fromTagList(image.Tags));
        const tags = Object.fromEntries(Object.entries(live).filter(([k, v]) => k in declared || copiedTags[k] !== v));
        return { ...(shared as ImageCopyOutputs), tags: nonEmpty(tags), copiedTags: nonEmpty(copiedTags), temporaryShare: pendingShare(inputs, extra.temporaryShare) };
    },
};
