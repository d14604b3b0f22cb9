/**
 * Removing an image without leaking what it is made of: deregister it and delete its own
 * snapshots, and what is left of one deregistered out of band.
 */
import { DeleteSnapshotCommand, DeregisterImageCommand, Snapshot } from "@aws-sdk/client-ec2";
import { explainAwsError, isNotFound } from "../core/errors";
import { ec2Client } from "./client";
import { describeImage, describeSnapshotsInto, imageSnapshotIds } from "./images";

/** The state golden-ami records for an image deregistered out of band whose snapshots are left. */
export const DEREGISTERED = "deregistered";

/**
 * What `read` (refresh) keeps of an image EC2 no longer knows. Deregistering an image leaves
 * its snapshots, and those recorded in state are golden-ami's: while any still exists the
 * resource stays in state, marked `deregistered` with just those snapshots, so the next
 * `pulumi up` replaces it and its delete removes them (nothing leaked); undefined (drop it
 * from state) when nothing of it is left.
 */
export async function readDeregisteredImage<T extends { state: string; snapshotIds?: string[] }>(region: string, props: T): Promise<T | undefined> {
    const left = new Map<string, Snapshot>();
    await describeSnapshotsInto(region, props.snapshotIds ?? [], left);
    const snapshotIds = (props.snapshotIds ?? []).filter((id) => left.has(id));
    return snapshotIds.length ? { ...props, state: DEREGISTERED, snapshotIds } : undefined;
}

/**
 * Deregisters an image and deletes its own snapshots (those in its block device mappings,
 * nothing else). Already gone is fine. Snapshot IDs known from state are used when the
 * image itself is gone, so a half-deleted image leaves no snapshot behind.
 */
export async function deleteImageAndSnapshots(region: string, imageId: string, knownSnapshotIds: string[] = []): Promise<void> {
    const client = ec2Client(region);
    const image = await describeImage(region, imageId);
    const snapshotIds = [...new Set([...(image ? imageSnapshotIds(image) : []), ...knownSnapshotIds])];
    if (image) {
        try {
            await client.send(new DeregisterImageCommand({ ImageId: imageId }));
        } catch (err) {
            if (!isNotFound(err)) throw explainAwsError(err, `deregistering image ${imageId} in ${region}`);
        }
    }
    for (const snapshotId of snapshotIds) {
        try {
            await client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
        } catch (err) {
            if (!isNotFound(err)) throw explainAwsError(err, `deleting snapshot ${snapshotId} of image ${imageId} in ${region}`);
        }
    }
}
