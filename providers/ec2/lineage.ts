/**
 * The EC2 calls of generations: the images and snapshots of a lineage (by its tag), who still
 * references an image (DescribeImageReferences), retiring an image (deprecated at once,
 * tagged, left registered) and removing one with its snapshots.
 */
import {
    CreateTagsCommand,
    DeleteSnapshotCommand,
    DeregisterImageCommand,
    DescribeImageReferencesCommand,
    DescribeImagesCommand,
    DescribeSnapshotsCommand,
    DisableImageCommand,
    EnableImageDeprecationCommand,
    Image,
    Snapshot,
    Tag,
} from "@aws-sdk/client-ec2";
import { explainAwsError, isNotFound } from "../core/errors";
import { GenerationImage, generationOf, LINEAGE_TAGS } from "../core/lineage";
import { fromTagList } from "../core/tags";
import { ec2Client } from "./client";
import { imageSnapshotIds } from "./images";
import { perRegion, RegionBatch } from "./region-batch";

/** Instance states that can still launch or run again (a terminated instance never will). */
const LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped"];

/** The lineage of an image or snapshot, from its tags. */
const lineageTag = (item: { Tags?: Tag[] }) => [fromTagList(item.Tags)[LINEAGE_TAGS.lineage]];

/** Lineage look-ups of many resources at once share one call per region (see RegionBatch). */
const imagesByLineage = perRegion(
    (region) =>
        new RegionBatch<Image>(async (lineages) => {
            const out = await ec2Client(region).send(
                new DescribeImagesCommand({
                    Owners: ["self"],
                    Filters: [{ Name: `tag:${LINEAGE_TAGS.lineage}`, Values: lineages }],
                    IncludeDeprecated: true,
                    IncludeDisabled: true,
                }),
            );
            return out.Images ?? [];
        }, lineageTag),
);
const snapshotsByLineage = perRegion(
    (region) =>
        new RegionBatch<Snapshot>(async (lineages) => {
            const out = await ec2Client(region).send(
                new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: `tag:${LINEAGE_TAGS.lineage}`, Values: lineages }] }),
            );
            return out.Snapshots ?? [];
        }, lineageTag),
);

/** The account's images of a lineage in a region (deprecated and disabled ones included). */
export async function lineageImages(region: string, lineage: string): Promise<Image[]> {
    try {
        return (await imagesByLineage(region).get(lineage)).filter((i) => i.State !== "deregistered");
    } catch (err) {
        throw explainAwsError(err, `listing the generations of lineage ${lineage} in ${region}`);
    }
}

/** The account's snapshots of a lineage in a region. */
export async function lineageSnapshots(region: string, lineage: string): Promise<Snapshot[]> {
    try {
        return await snapshotsByLineage(region).get(lineage);
    } catch (err) {
        throw explainAwsError(err, `listing the snapshots of lineage ${lineage} in ${region}`);
    }
}

/** An image of a lineage as retention sees it. */
export function generationImage(image: Image): GenerationImage {
    const tags = fromTagList(image.Tags);
    const retired = Date.parse(tags[LINEAGE_TAGS.retiredAt] ?? "");
    return {
        imageId: image.ImageId!,
        generation: generationOf(tags) ?? 0,
        retiredAt: Number.isNaN(retired) ? undefined : retired,
        protected: (image.DeregistrationProtection ?? "").startsWith("enabled"),
        disabled: image.State === "disabled",
        snapshotIds: imageSnapshotIds(image),
    };
}

/**
 * Image ID → ARNs of the account's resources that reference it: instances that are not
 * terminated, the launch templates' newest 10 versions, SSM parameters, Image Builder recipes.
 */
export async function imageReferences(region: string, imageIds: string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    for (let i = 0; i < imageIds.length; i += 10) {
        const batch = imageIds.slice(i, i + 10);
        let token: string | undefined;
        do {
            try {
                const out = await ec2Client(region).send(
                    new DescribeImageReferencesCommand({
                        ImageIds: batch,
                        IncludeAllResourceTypes: true,
                        ResourceTypes: [{ ResourceType: "ec2:Instance", ResourceTypeOptions: [{ OptionName: "state-name", OptionValues: LIVE_INSTANCE_STATES }] }],
                        NextToken: token,
                    }),
                );
                for (const ref of out.ImageReferences ?? []) {
                    if (!ref.ImageId || !ref.Arn) continue;
                    found.set(ref.ImageId, [...(found.get(ref.ImageId) ?? []), ref.Arn]);
                }
                token = out.NextToken;
            } catch (err) {
                throw explainAwsError(err, `asking which resources reference ${batch.join(", ")} in ${region}`);
            }
        } while (token);
    }
    return found;
}

/**
 * Retires an image: deprecated at once (EC2 takes no past time: a minute from now, unless it
 * is deprecated sooner already) and tagged with its retirement time. It stays registered,
 * snapshots and launch permissions included, so consumers still launch from it.
 */
export async function retireImage(region: string, image: Image, now: number): Promise<void> {
    const client = ec2Client(region);
    const soon = now + 60_000;
    const current = image.DeprecationTime ? Date.parse(image.DeprecationTime) : NaN;
    try {
        if (Number.isNaN(current) || current > soon) {
            await client.send(new EnableImageDeprecationCommand({ ImageId: image.ImageId!, DeprecateAt: new Date(soon) }));
        }
        await client.send(new CreateTagsCommand({ Resources: [image.ImageId!], Tags: [{ Key: LINEAGE_TAGS.retiredAt, Value: new Date(now).toISOString() }] }));
    } catch (err) {
        throw explainAwsError(err, `retiring image ${image.ImageId} in ${region}`);
    }
}

/** Disables a retired image (DisableImage: private, unlaunchable, still registered, restorable with EnableImage). */
export async function disableImage(region: string, imageId: string): Promise<void> {
    try {
        await ec2Client(region).send(new DisableImageCommand({ ImageId: imageId }));
    } catch (err) {
        throw explainAwsError(err, `disabling retired image ${imageId} in ${region}`);
    }
}

/**
 * Deregisters an image together with its snapshots (DeleteAssociatedSnapshots); the snapshots
 * EC2 did not delete (or all, where the parameter is not honoured) are deleted one by one.
 * Already gone is fine, so a run that died half-way is finished by the next without a second delete.
 */
export async function deregisterWithSnapshots(region: string, imageId: string, snapshotIds: string[]): Promise<void> {
    const client = ec2Client(region);
    let deleted = new Set<string>();
    try {
        const out = await client.send(new DeregisterImageCommand({ ImageId: imageId, DeleteAssociatedSnapshots: true }));
        deleted = new Set((out.DeleteSnapshotResults ?? []).filter((r) => r.ReturnCode === "success").map((r) => r.SnapshotId!));
    } catch (err) {
        if (!isNotFound(err)) throw explainAwsError(err, `deregistering image ${imageId} in ${region}`);
    }
    await deleteSnapshots(region, snapshotIds.filter((id) => !deleted.has(id)), `of image ${imageId}`);
}

/** Deletes snapshots one by one; already gone is fine. */
export async function deleteSnapshots(region: string, snapshotIds: string[], what: string): Promise<void> {
    const client = ec2Client(region);
    for (const snapshotId of snapshotIds) {
        try {
            await client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
        } catch (err) {
            if (!isNotFound(err)) throw explainAwsError(err, `deleting snapshot ${snapshotId} ${what} in ${region}`);
        }
    }
}
