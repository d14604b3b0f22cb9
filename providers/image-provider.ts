/**
 * The diff and read both image resources (InstanceImage, ImageCopy) make; each provider
 * supplies only what differs: its keys and how it turns a live image into outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { Image, Snapshot } from "@aws-sdk/client-ec2";
import { DistributionArgs, distributionDiff, readDistribution } from "./ec2/distribution";
import { DEREGISTERED, describeImage, describeSnapshots, imageSnapshotIds, readDeregisteredImage } from "./ec2/images";
import { defaultRegion } from "./ec2/region";

/** What an image resource keeps in state that the shared diff and read look at. */
export interface ImageState extends DistributionArgs {
    region?: string;
    state: string;
    snapshotIds?: string[];
}

/**
 * The diff of an image resource: the `replace` and `update` keys whose values changed
 * (`old` is the state keyed as the inputs), the distribution, and `extraReplaces`. An image
 * deregistered out of band (refresh found only its snapshots) is replaced: a new image, then
 * the delete of the old one removes those snapshots.
 */
export function diffImage(
    olds: ImageState,
    old: Record<string, unknown>,
    news: DistributionArgs,
    keys: { replace: readonly string[]; update: readonly string[] },
    extraReplaces: string[] = [],
): pulumi.dynamic.DiffResult {
    const incoming = news as unknown as Record<string, unknown>;
    const changed = (key: string) => JSON.stringify(old[key] ?? null) !== JSON.stringify(incoming[key] ?? null);
    const replaces: string[] = keys.replace.filter(changed);
    if (olds.state === DEREGISTERED) replaces.push("state");
    replaces.push(...extraReplaces);
    const updates: string[] = [...keys.update.filter(changed), ...distributionDiff(olds, news)];
    return { changes: replaces.length > 0 || updates.length > 0, replaces, deleteBeforeReplace: false };
}

/**
 * The read of an image resource: the live image, its snapshots and its distribution, turned
 * into outputs by `outputs`; what is left of one deregistered out of band (see
 * readDeregisteredImage); or no ID when nothing of it is left.
 */
export async function readImage<T extends ImageState>(
    id: string,
    props: T,
    outputs: (image: Image, snapshots: Snapshot[], live: DistributionArgs) => Record<string, unknown>,
): Promise<pulumi.dynamic.ReadResult> {
    const region = props.region ?? defaultRegion();
    const image = await describeImage(region, id);
    if (!image) {
        const left = await readDeregisteredImage(region, props);
        return left ? { id, props: left } : { id: undefined as unknown as string, props: {} };
    }
    const snapshots = await describeSnapshots(region, imageSnapshotIds(image));
    const live = await readDistribution(region, id, imageSnapshotIds(image));
    return { id, props: outputs(image, snapshots, live) };
}
