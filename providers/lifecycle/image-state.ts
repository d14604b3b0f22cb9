/**
 * An image kind's state, in one place for create, update, read and delete: from the inputs
 * and the live image (so a refresh right after a create reports no change), for an image that
 * exists but is not ready, and the inputs a state stands for.
 */
import type { Image, Snapshot } from "@aws-sdk/client-ec2";
import { DistributionArgs, pickDistribution, withoutDistribution } from "../core/distribution";
import { generationOf, LINEAGE_TAGS } from "../core/lineage";
import { fromTagList, nonEmpty, withoutMarkerTags } from "../core/tags";
import { imageFacts, imageSnapshotIds } from "../ec2/images";
import { ImageInputs, ImageKind, ImageState } from "./image-kind";

/** Inputs every kind updates in place (besides its own updateKeys): they only steer retention and destroy. */
export const LIFECYCLE_UPDATE_KEYS = ["retention", "onDestroy", "ssmParameterName"];

/** State holds no undefined (nothing to diff against an absent input). */
export function clean<T>(value: T): T {
    return JSON.parse(JSON.stringify(value));
}

/**
 * State from the inputs and the live image. `distribution` is what is live (create/update:
 * the inputs just applied; read: reconciled with state).
 */
export function imageOutputs<I extends ImageInputs, S extends ImageState>(
    kind: ImageKind<I, S>,
    inputs: I,
    image: Image,
    snapshots: Snapshot[],
    distribution: DistributionArgs,
    extra: Partial<S>,
): S {
    const snapshotIds = imageSnapshotIds(image);
    const firstSnapshot = snapshots.find((s) => s.SnapshotId === snapshotIds[0]);
    const shared: ImageState = {
        ...withoutDistribution(inputs),
        ...distribution,
        name: image.Name ?? inputs.name,
        description: image.Description || undefined,
        tags: nonEmpty(withoutMarkerTags(fromTagList(image.Tags))),
        snapshotTags: firstSnapshot ? nonEmpty(withoutMarkerTags(fromTagList(firstSnapshot.Tags))) : inputs.snapshotTags,
        ...imageFacts(image),
        lineage: fromTagList(image.Tags)[LINEAGE_TAGS.lineage],
        generation: generationOf(fromTagList(image.Tags)),
        retentionReport: extra.retentionReport,
    };
    return clean(kind.outputs(shared, inputs, image, extra));
}

/** State recorded for an image that exists but is not ready yet (no distribution: applied once ready). */
export function pendingState<I extends ImageInputs, S extends ImageState>(kind: ImageKind<I, S>, inputs: I, imageId: string, state: string, generation?: number): S {
    return clean({
        ...withoutDistribution(inputs),
        ...kind.pending?.(inputs),
        imageId,
        generation,
        snapshotIds: [],
        state,
        complete: false,
        blockDeviceMappings: [],
    } as unknown as S);
}

/**
 * Inputs as recorded in state (for read/refresh), with the name only the image knows.
 * Stored values pass through as they are (no defaults invented), so a refresh reports no change.
 */
export function inputsFromState<I extends ImageInputs, S extends ImageState>(kind: ImageKind<I, S>, props: S, image: Image): I {
    const state = (kind.asInputs?.(props) ?? props) as Record<string, unknown>;
    const inputs: Record<string, unknown> = { ...pickDistribution(props) };
    for (const key of [...kind.replaceKeys, ...kind.updateKeys, ...LIFECYCLE_UPDATE_KEYS, "region", "adoptImageId", "resourceUrn", "awsProvider"]) {
        if (state[key] !== undefined) inputs[key] = state[key];
    }
    inputs.name = image.Name ?? props.name;
    return inputs as unknown as I;
}
