/**
 * Generations over time, in one region: the lineage tags of a new image, retiring the older
 * generations once a newer one is ready, retention (which retired generations go, and why the
 * others stay), and destroy (the whole lineage, not just the current image).
 *
 * Pulumi does not tell a replacement's delete from a destroy. The lineage does: a delete while
 * a newer live (not retired) generation of the same lineage exists is a replacement, and the
 * old image is retired instead of deleted; a delete with none is a destroy.
 *
 * Every step reads what is live first and acts only on what is still there, so throttling, a
 * crash or Ctrl-C half-way leave nothing the next run does not finish, and nothing is deleted twice.
 */
import type { Image } from "@aws-sdk/client-ec2";
import { Clock, ProgressFn } from "../core/context";
import {
    disableDue,
    generationOf,
    GenerationImage,
    LINEAGE_TAGS,
    lineageId,
    needUsage,
    OnDestroy,
    planDisable,
    planRetention,
    RetentionArgs,
    retentionPolicy,
    RetentionReport,
} from "../core/lineage";
import { shortHash } from "../core/naming";
import { fromTagList, TagMap } from "../core/tags";
import { updateTags } from "../ec2/labels";
import { deleteSnapshots, deregisterWithSnapshots, disableImage, generationImage, imageReferences, lineageImages, lineageSnapshots, retireImage } from "../ec2/lineage";

/** What a resource knows of its place in a lineage. */
export interface LineageInputs {
    region: string;
    name: string;
    resourceUrn?: string;
    retention?: RetentionArgs;
    onDestroy?: OnDestroy;
}

export function lineageOf(inputs: LineageInputs): string {
    return lineageId(inputs.resourceUrn, `${inputs.region}/${inputs.name}`);
}

/**
 * The lineage tags of the next generation (image and snapshots alike), set in the call that
 * makes it. Deterministic for a retried create (CopyImage's ClientToken covers them): a copy's
 * build time is tagged once it exists (`tagBuildTime`, from EC2's CreationDate); an image's goes
 * with CreateImage (instance-image.ts).
 * `lineageEmpty`: no image or snapshot of the lineage existed, so the new generation is its
 * only one and retention after it has nothing to look at (one resource is one lineage, and
 * the engine runs one operation on a resource at a time).
 */
export async function nextGenerationTags(inputs: LineageInputs, identity: unknown): Promise<{ tags: TagMap; lineageEmpty: boolean }> {
    const lineage = lineageOf(inputs);
    const existing = await lineageImages(inputs.region, lineage);
    // A retried create whose first image is not visible by name yet, but is by tag: the same generation (and ClientToken).
    const same = existing.find((i) => i.Name === inputs.name);
    // Snapshots count too: an image deregistered out of band leaves its (tagged) snapshots, and its generation is never reused.
    const snapshots = same ? [] : await lineageSnapshots(inputs.region, lineage);
    const newest = same
        ? (generationOf(fromTagList(same.Tags)) ?? 1) - 1
        : Math.max(0, ...existing.map((i) => generationOf(fromTagList(i.Tags)) ?? 0), ...snapshots.map((s) => generationOf(fromTagList(s.Tags)) ?? 0));
    return {
        tags: {
            [LINEAGE_TAGS.lineage]: lineage,
            [LINEAGE_TAGS.generation]: String(newest + 1),
            [LINEAGE_TAGS.recipe]: shortHash(identity, 16),
        },
        lineageEmpty: existing.length === 0 && snapshots.length === 0,
    };
}

function live(image: Image): boolean {
    return fromTagList(image.Tags)[LINEAGE_TAGS.retiredAt] === undefined;
}

/**
 * Once generation `current` is ready: retires every older generation not retired yet, then
 * applies retention to the retired ones. Returns what was kept (and why) and removed.
 */
export async function retireAndRetain(
    inputs: LineageInputs,
    current: { imageId: string; generation: number; snapshotIds: string[] },
    clock: Clock,
    progress: ProgressFn,
): Promise<RetentionReport> {
    const { region } = inputs;
    const images = await lineageImages(region, lineageOf(inputs));
    const now = clock.now();
    const older = images.filter((i) => i.ImageId !== current.imageId && (generationOf(fromTagList(i.Tags)) ?? 0) < current.generation);
    for (const image of older.filter(live)) {
        progress(`retiring ${image.ImageId} (generation ${generationOf(fromTagList(image.Tags))}): deprecated, left registered`);
        await retireImage(region, image, now);
        image.Tags = [...(image.Tags ?? []), { Key: LINEAGE_TAGS.retiredAt, Value: new Date(now).toISOString() }];
    }
    const retired = older.map(generationImage);
    const policy = retentionPolicy(inputs.retention);
    const { plan, keptImages, usage } = await planFor(region, older, retired, policy, now);
    const removed: RetentionReport["removed"] = [];
    for (const image of plan.remove) {
        progress(`retention: deregistering ${image.imageId} (generation ${image.generation}) and deleting its snapshots`);
        await deregisterWithSnapshots(region, image.imageId, image.snapshotIds);
        removed.push({ imageId: image.imageId, generation: image.generation });
    }
    const remaining = images.filter((i) => !removed.some((r) => r.imageId === i.ImageId));
    await deleteOrphanSnapshots(region, lineageOf(inputs), remaining, current.snapshotIds);
    const disabled: RetentionReport["removed"] = [];
    for (const image of planDisable(keptImages, policy, now, usage)) {
        progress(`retention: disabling ${image.imageId} (generation ${image.generation}): retired longer than retention.disableAfter, referenced by nothing`);
        await disableImage(region, image.imageId);
        disabled.push({ imageId: image.imageId, generation: image.generation });
    }
    for (const k of plan.kept) progress(`retention: keeping ${k.imageId} (generation ${k.generation}): ${k.reason}`);
    return { kept: plan.kept, removed, ...(disabled.length ? { disabled } : {}) };
}

/**
 * The retention plan of the retired generations, with the usage facts it needed: references
 * are asked only for those neither count nor age keeps, and for those old enough to disable.
 */
async function planFor(region: string, raw: Image[], retired: GenerationImage[], policy: ReturnType<typeof retentionPolicy>, now: number) {
    const byCount = needUsage(retired, policy, now);
    const keptByCount = retired.filter((g) => !byCount.includes(g));
    const ask = [...new Set([...byCount, ...disableDue(keptByCount, policy, now)].map((c) => c.imageId))];
    const references = ask.length ? await imageReferences(region, ask) : new Map<string, string[]>();
    const lastLaunched = new Map<string, number>();
    for (const image of raw) {
        const at = image.LastLaunchedTime ? Date.parse(image.LastLaunchedTime) : NaN;
        if (!Number.isNaN(at)) lastLaunched.set(image.ImageId!, at);
    }
    const usage = { references, lastLaunched };
    const plan = planRetention(retired, policy, now, usage);
    const keptImages = retired.filter((g) => !plan.remove.includes(g));
    return { plan, keptImages, usage };
}

/**
 * Whether retention would remove (or disable) something now that the last run kept (a
 * reference went away, an age passed): read-only, for diff. False without anything kept.
 */
export async function retentionDue(inputs: LineageInputs, report: RetentionReport | undefined, generation: number | undefined, clock: Clock): Promise<boolean> {
    if (!report || report.kept.length === 0 || generation === undefined) return false;
    const images = await lineageImages(inputs.region, lineageOf(inputs));
    const older = images.filter((i) => (generationOf(fromTagList(i.Tags)) ?? 0) < generation);
    const retired = older.map(generationImage);
    const policy = retentionPolicy(inputs.retention);
    const now = clock.now();
    const kept = retired.filter((g) => !needUsage(retired, policy, now).includes(g));
    if (needUsage(retired, policy, now).length === 0 && disableDue(kept, policy, now).length === 0) return false;
    const { plan, keptImages, usage } = await planFor(inputs.region, older, retired, policy, now);
    return plan.remove.length > 0 || planDisable(keptImages, policy, now, usage).length > 0;
}

/**
 * Snapshots tagged with the lineage that no remaining image of it uses (left by a run that died
 * between deregistering and deleting). `alsoUsed`: the current image's, which a describe by tag
 * may not list yet (eventual consistency), and which must never be taken for orphans.
 */
async function deleteOrphanSnapshots(region: string, lineage: string, remaining: Image[], alsoUsed: string[]): Promise<void> {
    const used = new Set([...remaining.flatMap((i) => generationImage(i).snapshotIds), ...alsoUsed]);
    const orphans = (await lineageSnapshots(region, lineage)).map((s) => s.SnapshotId!).filter((id) => !used.has(id));
    await deleteSnapshots(region, orphans, `of lineage ${lineage}`);
}

/**
 * Another live (not retired) image of the lineage, of this generation or a newer one: the sign
 * of a replacement (never a destroy, which must not remove the image that replaced this one).
 */
export async function newerLiveGeneration(inputs: LineageInputs, imageId: string, generation: number): Promise<Image | undefined> {
    const images = await lineageImages(inputs.region, lineageOf(inputs));
    return images.find((i) => i.ImageId !== imageId && live(i) && (generationOf(fromTagList(i.Tags)) ?? 0) >= generation && i.State !== "failed");
}

/** Retires one image (a replacement's delete), unless it is retired already. */
export async function retireOne(region: string, image: Image, clock: Clock): Promise<void> {
    if (live(image)) await retireImage(region, image, clock.now());
}

/**
 * Destroy: every generation of the lineage in the region, snapshots included, except
 * `keepImageId` (onDestroy "retain") and images under deregistration protection (returned,
 * to be reported with what to do).
 */
export async function removeLineage(inputs: LineageInputs, keep: { imageId: string; snapshotIds: string[] } | undefined, progress: ProgressFn): Promise<GenerationImage[]> {
    const { region } = inputs;
    const lineage = lineageOf(inputs);
    const images = await lineageImages(region, lineage);
    const left: GenerationImage[] = [];
    const remaining: Image[] = [];
    for (const raw of images) {
        const image = generationImage(raw);
        if (image.imageId === keep?.imageId || image.protected) {
            if (image.protected && image.imageId !== keep?.imageId) left.push(image);
            remaining.push(raw);
            continue;
        }
        progress(`deregistering ${image.imageId} (generation ${image.generation}) and deleting its snapshots`);
        await deregisterWithSnapshots(region, image.imageId, image.snapshotIds);
    }
    await deleteOrphanSnapshots(region, lineage, remaining, keep?.snapshotIds ?? []);
    return left;
}

/** Tags the image and its snapshots with the build time (EC2's CreationDate), unless they have it. */
export async function tagBuildTime(region: string, image: Image, now: number): Promise<void> {
    const tags = fromTagList(image.Tags);
    if (tags[LINEAGE_TAGS.lineage] === undefined || tags[LINEAGE_TAGS.builtAt] !== undefined) return;
    const at = image.CreationDate && !Number.isNaN(Date.parse(image.CreationDate)) ? new Date(Date.parse(image.CreationDate)) : new Date(now);
    await updateTags(region, [image.ImageId!, ...generationImage(image).snapshotIds], {}, { [LINEAGE_TAGS.builtAt]: at.toISOString() });
    image.Tags = [...(image.Tags ?? []), { Key: LINEAGE_TAGS.builtAt, Value: at.toISOString() }];
}
