/**
 * The one lifecycle of every resource that produces an AMI (InstanceImage, ImageCopy, …):
 *
 *   check → find-or-make → wait (available, every snapshot completed) → finish (the kind's
 *   own step, labels, distribution) → outputs;  partial state or clean-up when a step fails;
 *   and the shared diff / update / read / delete.
 *
 * A kind (instance-image.ts, image-copy.ts) supplies only what differs: its own checks and
 * defaults, what defines it (the hash in its default name), its marker tags, the one call
 * that makes the image, its own finishing step and its extra outputs. The shared checks, the
 * state and the delete have files of their own: image-checks.ts, image-state.ts, image-destroy.ts.
 *
 * Nothing is lost: an image made but not finished is reported as a partial create (kept in
 * state, resumed by the next `pulumi up`); one made by a run that died before it could
 * report is found again by its deterministic name and marker tags and adopted, never
 * duplicated; a failed image is deleted with its snapshots, and when that delete fails too
 * it is kept in state, so `pulumi destroy` (or the next up) removes it.
 */
import * as pulumi from "@pulumi/pulumi";
import { Release, RunContext } from "../core/context";
import { distributionDiff, hasDistribution, pickDistribution, reconcileDistribution } from "../core/distribution";
import { awsErrorCode, explainAwsError, GoldenAmiError } from "../core/errors";
import { LINEAGE_TAGS } from "../core/lineage";
import { deterministicImageName, MANAGED_BY_VALUE, MARKER_TAGS, resourceNameFromUrn } from "../core/naming";
import { DEFAULT_IMAGE_TIMEOUT_MINUTES } from "../core/options";
import { defaultRegion } from "../core/region";
import { fromTagList, TagMap } from "../core/tags";
import { applyDistribution, readDistribution } from "../ec2/distribution";
import { DEREGISTERED, deleteImageAndSnapshots, readDeregisteredImage } from "../ec2/image-delete";
import { ImageObservation } from "../ec2/image-judge";
import { waitForImage } from "../ec2/image-wait";
import { describeImage, describeSnapshots, findOwnImagesByName, imageSnapshotIds } from "../ec2/images";
import { updateImageLabels } from "../ec2/labels";
import { publishImageId, unpublish } from "../ec2/publish";
import { minutes, WaitFailedError } from "../ec2/waiter";
import { actingProvider } from "./acting";
import { Checker, containsUnknown } from "./checks";
import { checkSharedInputs } from "./image-checks";
import { deleteImageResource } from "./image-destroy";
import { defaulted, ImageInputs, ImageKind, ImageState, StepContext } from "./image-kind";
import { clean, imageOutputs, inputsFromState, LIFECYCLE_UPDATE_KEYS, pendingState } from "./image-state";
import { hostKeys, ImageRejectedError, PartialCreateError } from "./partial";
import { nextGenerationTags, retentionDue, retireAndRetain, tagBuildTime } from "./retention";

/** The dynamic provider of one image kind, acting with `ctx`. */
export function imageProvider<I extends ImageInputs, S extends ImageState>(kind: ImageKind<I, S>, ctx: RunContext): pulumi.dynamic.ResourceProvider {
    return new ImageLifecycle(kind, ctx).provider();
}

class ImageLifecycle<I extends ImageInputs, S extends ImageState> {
    constructor(private readonly kind: ImageKind<I, S>, private readonly ctx: RunContext) {}

    provider(): pulumi.dynamic.ResourceProvider {
        return actingProvider(this.kind.noun, {
            check: (olds, news) => this.check(olds, news),
            diff: (_id, olds, news) => this.diff(olds, news),
            create: (inputs) => this.create(inputs),
            read: (id, props) => this.read(id, props),
            update: (id, olds, news) => this.update(id, olds, news),
            delete: (id, props) => this.delete(id, props),
        });
    }

    private step(inputs: { resourceUrn?: string }): StepContext {
        return { clock: this.ctx.clock, timeScale: this.ctx.timeScale, progress: this.ctx.progress(inputs.resourceUrn), copySlots: this.ctx.copySlots };
    }

    private async check(olds: Partial<I>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
        const c = new Checker();
        const n = news as Partial<ImageInputs> & Record<string, unknown>;
        const region = defaulted(c, "region", n.region);
        const own = await this.kind.check(c, news, olds, region);
        const { tags, snapshotTags } = checkSharedInputs(c, n, olds, this.ctx.clock.now());

        const inputs: Record<string, unknown> = {
            ...news,
            ...(tags ? { tags } : {}),
            ...(snapshotTags ? { snapshotTags } : {}),
            region,
            imageTimeoutMinutes: n.imageTimeoutMinutes ?? DEFAULT_IMAGE_TIMEOUT_MINUTES,
            ...own,
        };
        if (n.name === undefined) {
            const identity = this.kind.identity(inputs as unknown as I);
            if (!containsUnknown(identity)) {
                const derived = deterministicImageName(resourceNameFromUrn(n.resourceUrn), identity);
                // A renamed resource (same identity) keeps the name its image already has.
                const keep = olds.name && olds.name.endsWith(derived.slice(derived.lastIndexOf("-")));
                inputs.name = keep ? olds.name : derived;
            }
        } else if (c.failures.length === 0 && this.kind.checkFinal) {
            await this.kind.checkFinal(c, inputs, olds);
        }
        return { inputs, failures: c.failures };
    }

    /**
     * The keys whose values changed, and the distribution. An image deregistered out of band
     * (refresh found only its snapshots) is replaced: a new image, then the delete of the old
     * one removes those snapshots. A new adoptImageId replaces too (another image).
     */
    private async diff(olds: S, news: I): Promise<pulumi.dynamic.DiffResult> {
        const old = (this.kind.asInputs?.(olds) ?? olds) as Record<string, unknown>;
        const incoming = news as unknown as Record<string, unknown>;
        const changed = (key: string) => JSON.stringify(old[key] ?? null) !== JSON.stringify(incoming[key] ?? null);
        const replaces = this.kind.replaceKeys.filter(changed);
        if (olds.state === DEREGISTERED) replaces.push("state");
        if (news.adoptImageId !== undefined && news.adoptImageId !== olds.imageId) replaces.push("adoptImageId");
        // Other explicit-provider settings act elsewhere from now on; state must record them (for delete).
        const updates = [...this.kind.updateKeys.filter(changed), ...["awsProvider", ...LIFECYCLE_UPDATE_KEYS].filter(changed), ...distributionDiff(olds, news)];
        // Nothing else changed, but a generation the last run kept may be free to go now (its reference moved on, its age passed).
        if (replaces.length === 0 && updates.length === 0 && (await this.retentionDue(olds, news))) updates.push("retentionReport");
        return { changes: replaces.length > 0 || updates.length > 0, replaces, deleteBeforeReplace: false };
    }

    private async create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
        const inputs = raw as unknown as I;
        const step = this.step(inputs);
        const { region } = inputs;
        const made = await this.findOrMake(inputs, step);
        const imageId = made.imageId;
        // An image the user handed over (adoptImageId) is theirs: never deleted or recorded because it is not ready.
        const theirs = inputs.adoptImageId !== undefined;

        let ready: ImageObservation;
        try {
            ready = await this.waitReady(inputs, imageId, step);
        } catch (err) {
            made.release?.();
            if (theirs) throw err;
            if (err instanceof WaitFailedError) {
                step.progress(`${this.kind.noun} ${imageId} failed; deleting it and its snapshots`);
                // Its snapshots are known before the delete starts: once the image is deregistered, nothing else names them.
                const image = await describeImage(region, imageId).catch(() => undefined);
                const snapshotIds = image ? imageSnapshotIds(image) : [];
                try {
                    await deleteImageAndSnapshots(region, imageId, snapshotIds);
                    await this.kind.settle?.(inputs, step);
                } catch (cleanup) {
                    // Kept in state with its snapshots, so `pulumi destroy` (or the next up) can remove what is left.
                    const both = new GoldenAmiError(`${err.message} Deleting the failed ${this.kind.noun} failed too: ${(cleanup as Error).message}`, "WaitFailed");
                    throw new PartialCreateError(imageId, { ...hostKeys(raw), ...pendingState(this.kind, inputs, imageId, "failed", made.generation), snapshotIds }, both);
                }
                throw err;
            }
            // The image exists: record it, so the next `pulumi up` resumes and destroy removes it.
            throw new PartialCreateError(imageId, { ...hostKeys(raw), ...pendingState(this.kind, inputs, imageId, "pending", made.generation) }, err as Error);
        }

        // Ready: whatever it held (a copy slot) is free for the next one.
        made.release?.();
        let extra: Partial<S> = {};
        try {
            await this.kind.settle?.(inputs, step);
            extra = await this.kind.finish(inputs, ready.image!, step);
            let outs = await this.completeCreate(inputs, imageId, ready, made.adopted, extra, step);
            await this.publish(inputs, imageId, undefined, step);
            outs = await this.retain(inputs, outs, step, made.lineageEmpty);
            this.reportDone(outs, step);
            return { id: imageId, outs: { ...outs, complete: true } };
        } catch (err) {
            // A rejected image (the kind deleted it) leaves nothing to record.
            if (theirs || err instanceof ImageRejectedError) throw err;
            // The image is good; only a later step failed. Keep it, and let the next `pulumi up` finish the steps
            // (distribution included: the resume reads what is live and applies the rest).
            const outs = imageOutputs(this.kind, inputs, ready.image!, ready.snapshots, {}, extra);
            throw new PartialCreateError(imageId, { ...hostKeys(raw), ...outs, complete: false }, err as Error);
        }
    }

    private async read(id: string, props: S): Promise<pulumi.dynamic.ReadResult> {
        const region = props.region ?? defaultRegion();
        const image = await describeImage(region, id);
        if (!image) {
            const left = await readDeregisteredImage(region, props);
            return left ? { id, props: left } : { id: undefined as unknown as string, props: {} };
        }
        const snapshotIds = imageSnapshotIds(image);
        const snapshots = await describeSnapshots(region, snapshotIds);
        const live = await readDistribution(region, id, snapshotIds);
        const inputs = inputsFromState(this.kind, props, image);
        const outs = imageOutputs(this.kind, inputs, image, snapshots, reconcileDistribution(inputs, live), props);
        return { id, props: { ...outs, complete: props.complete } };
    }

    private async update(id: string, olds: S, news: I): Promise<pulumi.dynamic.UpdateResult> {
        const step = this.step(news);
        const region = news.region;
        // A create that ran out of time or failed after the image was made: finish its steps.
        const resuming = olds.complete === false || olds.state !== "available";
        try {
            if (resuming) step.progress(`resuming ${this.kind.noun} ${id}`);
            let ready: ImageObservation;
            try {
                ready = await this.waitReady(news, id, step);
            } catch (err) {
                if (!(resuming && err instanceof WaitFailedError) || news.adoptImageId !== undefined) throw err;
                step.progress(`${this.kind.noun} ${id} failed; deleting it and its snapshots`);
                await deleteImageAndSnapshots(region, id, olds.snapshotIds ?? []);
                await this.kind.settle?.(news, step, olds);
                throw new GoldenAmiError(
                    `${err.message} The failed ${this.kind.noun} and its snapshots were deleted. What to do: run \`pulumi refresh\` (which drops it from the stack), then \`pulumi up\` to make it again.`,
                    "WaitFailed",
                );
            }
            if (resuming) await this.kind.settle?.(news, step, olds);
            const snapshotIds = imageSnapshotIds(ready.image!);
            await updateImageLabels(region, id, snapshotIds, olds, news);
            const extra = await this.kind.finish(news, ready.image!, step, { olds, resuming });
            // A resumed create may have applied part of the distribution: start from what is live.
            const from = resuming ? await readDistribution(region, id, snapshotIds) : pickDistribution(olds);
            await applyDistribution(region, id, snapshotIds, from, pickDistribution(news));
            const fresh = (await describeImage(region, id)) ?? ready.image!;
            let outs = imageOutputs(this.kind, news, fresh, await describeSnapshots(region, snapshotIds), pickDistribution(news), { ...olds, ...extra });
            await this.publish(news, id, olds.ssmParameterName, step);
            outs = await this.retain(news, outs, step);
            this.reportDone(outs, step);
            return { outs: { ...outs, complete: true } };
        } catch (err) {
            throw explainAwsError(err, `updating ${this.kind.noun} ${id} in ${region}`);
        }
    }

    /** A replacement's delete retires the image; a destroy removes its lineage (image-destroy.ts). */
    private delete(id: string, props: S): Promise<void> {
        return deleteImageResource(this.kind, this.ctx, this.step(props), id, props);
    }

    /**
     * Whether retention has work that the last run kept back. Read-only; never fails the diff
     * (a throttled or unknown answer waits for the next run, which asks again).
     */
    private async retentionDue(olds: S, news: I): Promise<boolean> {
        if (containsUnknown(news.region) || containsUnknown(news.retention)) return false;
        try {
            return await retentionDue(news, olds.retentionReport, olds.generation, this.ctx.clock);
        } catch {
            return false;
        }
    }

    /**
     * Sets the SSM parameter to this AMI, only now that it is available and distributed (a
     * half-built generation is never published); a renamed parameter's old one is removed.
     */
    private async publish(inputs: I, imageId: string, oldName: string | undefined, step: StepContext): Promise<void> {
        if (oldName && oldName !== inputs.ssmParameterName) await unpublish(inputs.region, oldName, [imageId]);
        if (!inputs.ssmParameterName) return;
        step.progress(`publishing ${imageId} in SSM parameter ${inputs.ssmParameterName}`);
        await publishImageId(inputs.region, inputs.ssmParameterName, imageId, step);
    }

    /** Retires the older generations and applies retention; nothing to look at when the lineage was empty before this one. */
    private async retain(inputs: I, outs: S, step: StepContext, lineageEmpty = false): Promise<S> {
        if (outs.generation === undefined) return outs;
        if (lineageEmpty) return clean({ ...outs, retentionReport: { kept: [], removed: [] } });
        const report = await retireAndRetain({ ...inputs }, { imageId: outs.imageId, generation: outs.generation, snapshotIds: outs.snapshotIds }, step.clock, step.progress);
        return clean({ ...outs, retentionReport: report });
    }

    /** The last line on the resource's row says what is true at the end, not what the wait saw last. */
    private reportDone(outs: S, step: StepContext): void {
        const n = outs.snapshotIds.length;
        step.progress(`${this.kind.noun} ${outs.imageId} ${outs.state}, ${n === 1 ? "its snapshot" : `all ${n} snapshots`} completed`);
    }

    private waitReady(inputs: I, imageId: string, step: StepContext): Promise<ImageObservation> {
        return waitForImage(inputs.region, imageId, {
            timeoutMs: minutes(inputs.imageTimeoutMinutes),
            onProgress: step.progress,
            clock: step.clock,
            timeScale: step.timeScale,
        });
    }

    /**
     * The image this resource stands for: the one the user handed over (adoptImageId), one
     * found by name that an earlier, interrupted run made (adopted), or a new one.
     */
    private async findOrMake(inputs: I, step: StepContext): Promise<{ imageId: string; adopted: boolean; release?: Release; generation?: number; lineageEmpty?: boolean }> {
        const { region, name } = inputs;
        if (inputs.adoptImageId !== undefined) {
            if (!(await describeImage(region, inputs.adoptImageId))) {
                throw new GoldenAmiError(
                    `golden-ami: adoptImageId ${inputs.adoptImageId} does not exist in ${region}. What to do: check the ID and the region.`,
                    "InvalidAMIID.NotFound",
                );
            }
            return { imageId: inputs.adoptImageId, adopted: true };
        }
        const earlier = await this.earlierImage(inputs);
        if (earlier) {
            step.progress(`found ${this.kind.noun} ${earlier} (${name}) from an earlier run; resuming`);
            return { imageId: earlier, adopted: true };
        }
        const making = this.kind.making(inputs);
        // Looked up before a copy slot is held, so a slot handed over goes straight to the make
        // call (nothing else changes the lineage meanwhile: the engine runs one operation on a resource at a time).
        let next: Awaited<ReturnType<typeof nextGenerationTags>>;
        try {
            next = await nextGenerationTags(inputs, this.kind.identity(inputs));
        } catch (err) {
            throw explainAwsError(err, making);
        }
        // Held until the image is ready (create releases it); given back at once if nothing is made.
        const release = await this.kind.reserve?.(inputs, step);
        try {
            const markers = { ...this.markers(inputs), ...next.tags };
            const imageId = await this.kind.make(inputs, { ...inputs.tags, ...markers }, { ...inputs.snapshotTags, ...markers }, step);
            return { imageId, adopted: false, release, generation: Number(markers[LINEAGE_TAGS.generation]), lineageEmpty: next.lineageEmpty };
        } catch (err) {
            release?.();
            // Nothing was made: what make set up for it (a temporary share) goes; the error is make's.
            const unsettled = await this.kind.settle?.(inputs, step).then(() => undefined, (e: Error) => e);
            if (awsErrorCode(err) === "InvalidAMIName.Duplicate" && !unsettled) {
                // Another attempt made it between our look and our call.
                const raced = await this.earlierImage(inputs);
                if (raced) return { imageId: raced, adopted: true };
            }
            const explained = explainAwsError(err, making);
            if (unsettled) throw new GoldenAmiError(`${explained.message} Undoing what came before it failed too: ${unsettled.message}`, explained.code);
            throw explained;
        }
    }

    private markers(inputs: I): TagMap {
        return { [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, ...this.kind.origin(inputs) };
    }

    /**
     * An image of this name that golden-ami made from this origin (to adopt), undefined when
     * there is none, and an error when the name belongs to an image golden-ami did not make from it.
     */
    private async earlierImage(inputs: I): Promise<string | undefined> {
        const [existing] = await findOwnImagesByName(inputs.region, inputs.name);
        if (!existing) return undefined;
        this.kind.refuseExisting?.(existing, inputs);
        const tags = fromTagList(existing.Tags);
        if (Object.entries(this.markers(inputs)).every(([k, v]) => tags[k] === v)) return existing.ImageId;
        throw new GoldenAmiError(
            `golden-ami: an image named "${inputs.name}" already exists in ${inputs.region} (${existing.ImageId}) and golden-ami did not ${this.kind.originText(inputs)}. ` +
                `What to do: ${this.kind.foreignAdvice(existing)}`,
            "ForeignImage",
        );
    }

    /**
     * The shared steps after the image is ready and the kind's own step: an adopted image is
     * brought to the declared labels; then the distribution (from nothing for a fresh image,
     * from what is live for an adopted one).
     */
    private async completeCreate(inputs: I, imageId: string, ready: ImageObservation, adopted: boolean, extra: Partial<S>, step: StepContext): Promise<S> {
        const { region } = inputs;
        let image = ready.image!;
        let snapshots = ready.snapshots;
        const snapshotIds = imageSnapshotIds(image);
        await tagBuildTime(region, image, step.clock.now());
        if (adopted) {
            const live = imageOutputs(this.kind, inputs, image, snapshots, {}, extra);
            // A handed-over image keeps a description the program does not declare.
            const description = inputs.adoptImageId !== undefined ? inputs.description ?? live.description : inputs.description;
            await updateImageLabels(region, imageId, snapshotIds, live, { ...inputs, description });
        }
        const distribution = pickDistribution(inputs);
        if (adopted || hasDistribution(distribution)) {
            step.progress(`applying the distribution settings of ${this.kind.noun} ${imageId}`);
            const from = adopted ? await readDistribution(region, imageId, snapshotIds) : {};
            await applyDistribution(region, imageId, snapshotIds, from, distribution);
        }
        if (adopted) {
            image = (await describeImage(region, imageId)) ?? image;
            snapshots = await describeSnapshots(region, snapshotIds);
        }
        return imageOutputs(this.kind, inputs, image, snapshots, distribution, extra);
    }
}
