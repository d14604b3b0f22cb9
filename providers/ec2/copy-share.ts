/**
 * The temporary share of a copy's source image with the account the copy is made in (a copy
 * into another account): launch permission on the image and create-volume permission on its
 * EBS snapshots, which CopyImage of a shared image needs, added only where missing (so a share
 * the source's own distribution grants is never withdrawn), and, for snapshots encrypted with
 * a customer managed KMS key, a grant on that key for the account (what its CopyImage needs to
 * read them); all withdrawn once the copy is available or given up. An AWS managed key
 * (`aws/ebs`) cannot be shared, so a source encrypted with one is refused before any change.
 * Called as the source's owner.
 */
import { DescribeImageAttributeCommand, DescribeSnapshotAttributeCommand, ModifyImageAttributeCommand, ModifySnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import { CreateGrantCommand, DescribeKeyCommand, KMSClient, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { awsErrorCode, GoldenAmiError } from "../core/errors";
import { ec2Client, kmsClient } from "./client";
import { call } from "./distribution";
import { describeImage, describeSnapshots, imageSnapshotIds } from "./images";

/**
 * What the target account's CopyImage of an encrypted shared image needs on the source's key
 * (AWS: "Share an AMI with specific AWS accounts", encrypted AMIs; EBS encryption permissions).
 */
export const COPY_GRANT_OPERATIONS = ["Decrypt", "DescribeKey", "CreateGrant", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom"] as const;

/** A grant made on a key of the source's snapshots for the account shared with. */
export interface ShareGrant {
    /** The key's ARN. */
    keyId: string;
    grantId: string;
}

const KEY_ARN = /^arn:([\w-]+):kms:([a-z0-9-]+):\d{12}:key\//;

/** What a share added to the source (and so what its withdrawal removes). */
export interface TemporaryShare {
    /** Region and ID of the source image. */
    region: string;
    imageId: string;
    /** The account shared with. */
    account: string;
    /** True when the launch permission was added (not already granted). */
    launch: boolean;
    /** The snapshots whose create-volume permission was added. */
    snapshotIds: string[];
    /** The grants made on the snapshots' customer managed keys (none for unencrypted snapshots). */
    grants?: ShareGrant[];
}

/** The KMS client of the key's region (a key ARN names it; a bare ID is the source region's). */
function keyClient(keyId: string, region: string): { client: KMSClient; partition: string } {
    const arn = KEY_ARN.exec(keyId);
    return { client: kmsClient(arn?.[2] ?? region), partition: arn?.[1] ?? "aws" };
}

/**
 * The customer managed keys the source's encrypted snapshots use, refusing an AWS managed key
 * (AWS managed keys cannot be shared, so no other account can copy what they encrypt).
 */
async function customerKeys(region: string, imageId: string, snapshotIds: string[], account: string): Promise<string[]> {
    const snapshots = await call(`reading the encryption of the snapshots of image ${imageId} in ${region}`, () => describeSnapshots(region, snapshotIds));
    const keyIds = [...new Set(snapshots.filter((s) => s.Encrypted && s.KmsKeyId).map((s) => s.KmsKeyId!))];
    for (const keyId of keyIds) {
        const { client } = keyClient(keyId, region);
        const key = await call(`reading the KMS key ${keyId} that encrypts image ${imageId} in ${region}`, () => client.send(new DescribeKeyCommand({ KeyId: keyId })));
        if (key.KeyMetadata?.KeyManager === "AWS") {
            throw new GoldenAmiError(
                `golden-ami: sourceImageId: the source image ${imageId} in ${region} is encrypted with the AWS managed key ${keyId} (aws/ebs), which cannot be shared with account ${account}, so that account cannot copy it; nothing was changed. ` +
                    "What to do: encrypt the source with a customer managed key instead (the builder's rootVolume.kmsKeyId, or the kmsKeyId of the copy the source is), whose key policy lets this account create grants on it.",
                "AwsManagedKey",
            );
        }
    }
    return keyIds;
}

/** Grants `account` on `keyId` what its CopyImage of the source needs. */
async function grantKey(keyId: string, region: string, imageId: string, account: string): Promise<ShareGrant> {
    const { client, partition } = keyClient(keyId, region);
    const out = await call(`granting account ${account} the use of KMS key ${keyId} to copy image ${imageId} in ${region}`, () =>
        client.send(
            new CreateGrantCommand({
                KeyId: keyId,
                GranteePrincipal: `arn:${partition}:iam::${account}:root`,
                Operations: [...COPY_GRANT_OPERATIONS],
                Name: `golden-ami-copy-${imageId}-${account}`,
            }),
        ),
    );
    return { keyId, grantId: out.GrantId! };
}

/** Revokes a grant `grantKey` made; one revoked already (or whose key is gone) is left as it is. */
async function revokeGrant(grant: ShareGrant, region: string, account: string): Promise<void> {
    const { client } = keyClient(grant.keyId, region);
    await call(`revoking the grant ${grant.grantId} of KMS key ${grant.keyId} for account ${account}`, async () => {
        try {
            await client.send(new RevokeGrantCommand({ KeyId: grant.keyId, GrantId: grant.grantId }));
        } catch (err) {
            if (awsErrorCode(err) !== "NotFoundException") throw err;
        }
    });
}

/** The source image's owner account and snapshots, or an error saying the source is not the caller's to share. */
async function ownedSource(region: string, imageId: string): Promise<{ owner: string; snapshotIds: string[] }> {
    const image = await describeImage(region, imageId);
    if (!image) {
        throw new GoldenAmiError(
            `golden-ami: the source image ${imageId} does not exist in ${region}, so it cannot be shared for the copy. What to do: check sourceImageId and sourceRegion.`,
            "InvalidAMIID.NotFound",
        );
    }
    return { owner: image.OwnerId ?? "", snapshotIds: imageSnapshotIds(image) };
}

/** The source image's owner account (as the source's owner sees it). */
export async function sourceOwner(region: string, imageId: string): Promise<string> {
    return (await ownedSource(region, imageId)).owner;
}

/**
 * Shares the source image and its snapshots with `account`, adding only the permissions it
 * does not hold yet (snapshots first: an account that sees the image can then copy it).
 */
export async function shareForCopy(region: string, imageId: string, account: string): Promise<TemporaryShare> {
    const client = ec2Client(region);
    const { snapshotIds } = await ownedSource(region, imageId);
    const keyIds = await customerKeys(region, imageId, snapshotIds, account);
    const where = `image ${imageId} in ${region}`;
    const missing = await Promise.all(
        snapshotIds.map(async (snapshotId) => {
            const out = await call(`reading the create-volume permissions of snapshot ${snapshotId} of ${where}`, () =>
                client.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" })),
            );
            return (out.CreateVolumePermissions ?? []).some((p) => p.UserId === account) ? undefined : snapshotId;
        }),
    );
    const share: TemporaryShare = { region, imageId, account, launch: false, snapshotIds: missing.filter((s): s is string => s !== undefined) };
    await Promise.all(
        share.snapshotIds.map((snapshotId) =>
            call(`sharing snapshot ${snapshotId} of ${where} with account ${account} for the copy`, () =>
                client.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission", CreateVolumePermission: { Add: [{ UserId: account }] } })),
            ),
        ),
    );
    share.grants = [];
    for (const keyId of keyIds) share.grants.push(await grantKey(keyId, region, imageId, account));
    const launch = await call(`reading the launch permissions of ${where}`, () => client.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" })));
    if (!(launch.LaunchPermissions ?? []).some((p) => p.UserId === account)) {
        await call(`sharing ${where} with account ${account} for the copy`, () =>
            client.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: account }] } })),
        );
        share.launch = true;
    }
    return share;
}

/**
 * Removes what `shareForCopy` added (image first, then snapshots, then the key grants); a
 * source deleted meanwhile has no permission left to withdraw, but its keys' grants are revoked still.
 */
export async function withdrawShare(share: TemporaryShare): Promise<void> {
    const client = ec2Client(share.region);
    const where = `image ${share.imageId} in ${share.region}`;
    if (!(await describeImage(share.region, share.imageId))) {
        await revokeGrants(share);
        return;
    }
    if (share.launch) {
        await call(`withdrawing the share of ${where} with account ${share.account}`, () =>
            client.send(new ModifyImageAttributeCommand({ ImageId: share.imageId, LaunchPermission: { Remove: [{ UserId: share.account }] } })),
        );
    }
    await Promise.all(
        share.snapshotIds.map((snapshotId) =>
            call(`withdrawing the share of snapshot ${snapshotId} of ${where} with account ${share.account}`, () =>
                client.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission", CreateVolumePermission: { Remove: [{ UserId: share.account }] } })),
            ),
        ),
    );
    await revokeGrants(share);
}

async function revokeGrants(share: TemporaryShare): Promise<void> {
    await Promise.all((share.grants ?? []).map((grant) => revokeGrant(grant, share.region, share.account)));
}
