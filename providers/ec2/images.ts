/**
 * Images and their snapshots as EC2 describes them: look up by ID or name, the snapshots
 * behind an image, and the facts both image kinds keep in state.
 */
import { DescribeImagesCommand, DescribeSnapshotsCommand, Image, Snapshot } from "@aws-sdk/client-ec2";
import { explainAwsError, isNotFound } from "../core/errors";
import { ec2Client } from "./client";
import { perRegion, RegionBatch } from "./region-batch";

/** A block device mapping of a finished image, as kept in state. */
export interface ImageBlockDeviceOutput {
    deviceName: string;
    snapshotId?: string;
    volumeSize?: number;
    volumeType?: string;
    encrypted?: boolean;
    /** The KMS key of an encrypted volume. */
    kmsKeyId?: string;
    deleteOnTermination?: boolean;
}

/** The image's block device mappings as EC2 reports them, in state form. */
export function imageBlockDeviceOutputs(image: Image): ImageBlockDeviceOutput[] {
    return (image.BlockDeviceMappings ?? []).map((m) => {
        const out: ImageBlockDeviceOutput = { deviceName: m.DeviceName ?? "" };
        if (m.Ebs?.SnapshotId) out.snapshotId = m.Ebs.SnapshotId;
        if (m.Ebs?.VolumeSize !== undefined) out.volumeSize = m.Ebs.VolumeSize;
        if (m.Ebs?.VolumeType) out.volumeType = m.Ebs.VolumeType;
        if (m.Ebs?.Encrypted !== undefined) out.encrypted = m.Ebs.Encrypted;
        if (m.Ebs?.Encrypted && m.Ebs.KmsKeyId) out.kmsKeyId = m.Ebs.KmsKeyId;
        if (m.Ebs?.DeleteOnTermination !== undefined) out.deleteOnTermination = m.Ebs.DeleteOnTermination;
        return out;
    });
}

/** The image, or undefined when EC2 does not know it (deregistered, never made, other region). */
export async function describeImage(region: string, imageId: string): Promise<Image | undefined> {
    try {
        const out = await ec2Client(region).send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDisabled: true }));
        const image = out.Images?.[0];
        return image && image.State !== "deregistered" ? image : undefined;
    } catch (err) {
        if (isNotFound(err)) return undefined;
        throw explainAwsError(err, `describing image ${imageId} in ${region}`);
    }
}

/** Images of this account with exactly this name (0 or 1 in practice: names are unique per region). */
export async function findOwnImagesByName(region: string, name: string): Promise<Image[]> {
    try {
        return (await imagesByName(region).get(name)).filter((i) => i.State !== "deregistered");
    } catch (err) {
        throw explainAwsError(err, `looking for an existing image named "${name}" in ${region}`);
    }
}

/** Name look-ups of many resources at once share one DescribeImages per region (see RegionBatch). */
const imagesByName = perRegion(
    (region) =>
        new RegionBatch<Image>(
            async (names) => (await ec2Client(region).send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: names }] }))).Images ?? [],
            (image) => [image.Name],
        ),
);

/** The EBS snapshots an image's block device mappings point at, in mapping order. */
export function imageSnapshotIds(image: Image): string[] {
    return (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((s): s is string => !!s);
}

export async function describeSnapshots(region: string, snapshotIds: string[]): Promise<Snapshot[]> {
    if (snapshotIds.length === 0) return [];
    const out = await ec2Client(region).send(new DescribeSnapshotsCommand({ SnapshotIds: snapshotIds }));
    return out.Snapshots ?? [];
}

/** What EC2 reports about an image, as both image resources keep it in state. */
export interface ImageFacts {
    imageId: string;
    snapshotIds: string[];
    state: string;
    creationDate?: string;
    ownerId?: string;
    architecture?: string;
    rootDeviceName?: string;
    /** The image's block device mappings as EC2 reports them (encryption and KMS key included). */
    blockDeviceMappings: ImageBlockDeviceOutput[];
}

export function imageFacts(image: Image): ImageFacts {
    return {
        imageId: image.ImageId!,
        snapshotIds: imageSnapshotIds(image),
        state: image.State ?? "unknown",
        creationDate: image.CreationDate,
        ownerId: image.OwnerId,
        architecture: image.Architecture,
        rootDeviceName: image.RootDeviceName,
        blockDeviceMappings: imageBlockDeviceOutputs(image),
    };
}


/**
 * DescribeSnapshots for these IDs into `into`. One unknown ID fails the whole call (a
 * snapshot deleted with its failed image, or not visible yet): then one by one, skipping it.
 */
export async function describeSnapshotsInto(region: string, ids: string[], into: Map<string, Snapshot>): Promise<void> {
    const unique = [...new Set(ids)];
    try {
        for (const s of await describeSnapshots(region, unique)) into.set(s.SnapshotId!, s);
    } catch (err) {
        if (!isNotFound(err)) throw err;
        if (unique.length > 1) for (const id of unique) await describeSnapshotsInto(region, [id], into);
    }
}

/** DescribeImages for several IDs; one not found yet (just created) does not fail the others. */
export async function describeImagesTolerant(region: string, ids: string[]): Promise<Map<string, Image>> {
    const client = ec2Client(region);
    const found = new Map<string, Image>();
    try {
        const out = await client.send(new DescribeImagesCommand({ ImageIds: ids }));
        for (const image of out.Images ?? []) found.set(image.ImageId!, image);
    } catch (err) {
        if (!isNotFound(err) || ids.length === 1) throw err;
        // One unknown ID fails the whole call: ask one by one this time.
        for (const id of ids) {
            const image = await describeImage(region, id);
            if (image) found.set(id, image);
        }
    }
    return found;
}

