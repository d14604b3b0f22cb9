/**
 * The user-set labels of an image: its tags, its snapshots' tags and its description,
 * changed by exactly the difference.
 */
import { CreateTagsCommand, DeleteTagsCommand, ModifyImageAttributeCommand } from "@aws-sdk/client-ec2";
import { explainAwsError } from "../core/errors";
import { TagMap } from "../core/tags";
import { ec2Client } from "./client";

/** The user-set labels of an image: its tags, its snapshots' tags and its description. */
export interface ImageLabels {
    tags?: TagMap;
    snapshotTags?: TagMap;
    description?: string;
}

/** Brings tags, snapshot tags and description from `olds` to `news`, exactly the difference. */
export async function updateImageLabels(region: string, imageId: string, snapshotIds: string[], olds: ImageLabels, news: ImageLabels): Promise<void> {
    await updateTags(region, [imageId], olds.tags ?? {}, news.tags ?? {});
    await updateTags(region, snapshotIds, olds.snapshotTags ?? {}, news.snapshotTags ?? {});
    if ((olds.description ?? "") !== (news.description ?? "")) {
        try {
            await ec2Client(region).send(new ModifyImageAttributeCommand({ ImageId: imageId, Description: { Value: news.description ?? "" } }));
        } catch (err) {
            throw explainAwsError(err, `changing the description of image ${imageId} in ${region}`);
        }
    }
}

/** Adds and removes exactly the tags that differ, on every resource given. */
export async function updateTags(region: string, resourceIds: string[], olds: TagMap, news: TagMap): Promise<void> {
    if (resourceIds.length === 0) return;
    const client = ec2Client(region);
    const removed = Object.keys(olds).filter((k) => !(k in news));
    const changed = Object.entries(news).filter(([k, v]) => olds[k] !== v);
    try {
        if (removed.length) {
            await client.send(new DeleteTagsCommand({ Resources: resourceIds, Tags: removed.map((Key) => ({ Key })) }));
        }
        if (changed.length) {
            await client.send(new CreateTagsCommand({ Resources: resourceIds, Tags: changed.map(([Key, Value]) => ({ Key, Value })) }));
        }
    } catch (err) {
        throw explainAwsError(err, `updating tags of ${resourceIds.join(", ")} in ${region}`);
    }
}

