/**
 * The delete of an image resource, which Pulumi does not tell apart: a replacement's delete
 * retires the image (a newer live generation of its lineage exists: it stays registered,
 * deprecated); a destroy removes the whole lineage in the region, snapshots included, except
 * images under deregistration protection (a warning says which and what to do) and, with
 * onDestroy "retain", the current one. State from before generations (no generation) deletes
 * just the image.
 */
import { RunContext } from "../core/context";
import { generationOf } from "../core/lineage";
import { defaultRegion } from "../core/region";
import { fromTagList } from "../core/tags";
import { deleteImageAndSnapshots, readDeregisteredImage } from "../ec2/image-delete";
import { describeImage } from "../ec2/images";
import { unpublish } from "../ec2/publish";
import { ImageInputs, ImageKind, ImageState, StepContext } from "./image-kind";
import { lineageOf, newerLiveGeneration, removeLineage, retireOne } from "./retention";

export async function deleteImageResource<I extends ImageInputs, S extends ImageState>(kind: ImageKind<I, S>, ctx: RunContext, step: StepContext, id: string, props: S): Promise<void> {
    const region = props.region ?? defaultRegion();
    const progress = step.progress;
    const lineage = { ...props, region };
    if (props.generation !== undefined) {
        const newer = await newerLiveGeneration(lineage, id, props.generation);
        if (newer) {
            const image = await describeImage(region, id);
            if (image) {
                progress(`retiring ${kind.noun} ${id}: generation ${generationOf(fromTagList(newer.Tags))} (${newer.ImageId}) replaces it; it stays registered`);
                await retireOne(region, image, ctx.clock);
            } else {
                // Gone already (this run's retention removed it, or it was deregistered out of band): nothing to
                // retire; only what is still left of it (its snapshots) goes, so nothing is deleted twice.
                const left = await readDeregisteredImage(region, props);
                if (left) await deleteImageAndSnapshots(region, id, left.snapshotIds);
            }
            return;
        }
    }
    // A copy deleted before it was ready may still hold its source's temporary share.
    await kind.settle?.(props as unknown as I, step, props);
    const retain = props.onDestroy === "retain";
    if (props.ssmParameterName && !retain) {
        progress(`deleting SSM parameter ${props.ssmParameterName}`);
        await unpublish(region, props.ssmParameterName, [id]);
    }
    if (retain) {
        progress(`keeping ${kind.noun} ${id} (onDestroy: "retain")`);
    } else {
        progress(`deregistering ${kind.noun} ${id} and deleting its snapshots`);
        await deleteImageAndSnapshots(region, id, props.snapshotIds ?? []);
    }
    if (props.generation === undefined) return;
    const left = await removeLineage(lineage, retain ? { imageId: id, snapshotIds: props.snapshotIds ?? [] } : undefined, progress);
    if (left.length > 0) {
        const warn = ctx.warn?.(props.resourceUrn) ?? progress;
        const commands = left.map(
            (l) => `aws ec2 disable-image-deregistration-protection --region ${region} --image-id ${l.imageId} && aws ec2 deregister-image --region ${region} --image-id ${l.imageId} --delete-associated-snapshots`,
        );
        warn(
            `golden-ami: left ${left.map((l) => `${l.imageId} (generation ${l.generation})`).join(", ")} of lineage ${lineageOf(lineage)} in ${region}, with their snapshots: deregistration protection is on. ` +
                `What to do: if they are no longer needed, turn protection off and deregister them with their snapshots: ${commands.join("; ")} ` +
                `(protection enabled with a cooldown allows the deregistration only 24 hours after it is turned off).`,
        );
    }
}
