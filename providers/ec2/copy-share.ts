/**
 * The temporary share of a copy's source image with the account the copy is made in (a copy
 * into another account): launch permission on the image and create-volume permission on its
 * EBS snapshots, which CopyImage of a shared image needs, added only where missing (so a share
 * the source's own distribution grants is never withdrawn), and withdrawn once the copy is
 * available or given up. Called as the source's owner.
 */
import { DescribeImageAttributeCommand, DescribeSnapshotAttributeCommand, ModifyImageAttributeCommand, ModifySnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import { GoldenAmiError } from "../core/errors";
import { ec2Client } from "./client";
import { call } from "./distribution";
import { describeImage, imageSnapshotIds } from "./images";

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
    const launch = await call(`reading the launch permissions of ${where}`, () => client.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" })));
    if (!(launch.LaunchPermissions ?? []).some((p) => p.UserId === account)) {
        await call(`sharing ${where} with account ${account} for the copy`, () =>
            client.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: account }] } })),
        );
        share.launch = true;
    }
    return share;
}

/** Removes what `shareForCopy` added (image first, then snapshots); a source deleted meanwhile has nothing left to withdraw. */
export async function withdrawShare(share: TemporaryShare): Promise<void> {
    const client = ec2Client(share.region);
    const where = `image ${share.imageId} in ${share.region}`;
    if (!(await describeImage(share.region, share.imageId))) return;
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
}
