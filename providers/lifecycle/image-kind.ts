/**
 * What an image kind is to the lifecycle (image-lifecycle.ts): the inputs and state every kind
 * shares, and the few things each kind supplies (its checks, identity, origin markers, the one
 * call that makes the image, its finishing step and extra outputs).
 */
import type { Image } from "@aws-sdk/client-ec2";
import { ProgressFn, Release, SlotPool, WaitContext } from "../core/context";
import { DistributionArgs } from "../core/distribution";
import { OnDestroy, RetentionArgs, RetentionReport } from "../core/lineage";
import { defaultRegion } from "../core/region";
import { currentSettings } from "../ec2/client";
import { TagMap } from "../core/tags";
import { ImageFacts } from "../ec2/images";
import { Checker } from "./checks";

/** The inputs every image kind has (after `check`). */
export interface ImageInputs extends DistributionArgs {
    region: string;
    name: string;
    description?: string;
    tags?: TagMap;
    snapshotTags?: TagMap;
    imageTimeoutMinutes: number;
    /**
     * An existing AMI of this account to take under management instead of making one
     * (golden-ami's `pulumi import`, which dynamic providers cannot have: pulumi/pulumi#16175).
     */
    adoptImageId?: string;
    /** Set by the resource class: its own URN, so progress shows on its row (and its hash is the lineage id). */
    resourceUrn?: string;
    /** Which retired generations stay (core/lineage.ts). */
    retention?: RetentionArgs;
    /** Destroy deletes the current generation with the lineage ("delete", default) or keeps it ("retain"). */
    onDestroy?: OnDestroy;
    /** An SSM parameter (data type aws:ec2:image) of the region set to the AMI ID once it is ready and distributed. */
    ssmParameterName?: string;
}

/** What every image kind keeps in state: its inputs and what EC2 reports about the image. */
export interface ImageState extends ImageInputs, ImageFacts {
    /** False while a step after the image was made is unfinished (the next `pulumi up` finishes it). */
    complete?: boolean;
    /** The lineage id (from the image's tags): stable across rebuilds of this resource. */
    lineage?: string;
    /** The image's generation in its lineage (1, 2, 3, …). */
    generation?: number;
    /** What the last retention run kept (and why) and removed. */
    retentionReport?: RetentionReport;
}

/** What a kind's steps get: where progress goes and the waits' clock and pace. */
export interface StepContext extends WaitContext {
    progress: ProgressFn;
    copySlots?: SlotPool;
}

/** What differs between image kinds; everything else is this module's. */
export interface ImageKind<I extends ImageInputs, S extends ImageState> {
    /** "image", "copy": how messages name what this kind makes. */
    readonly noun: string;
    /** Inputs whose change needs a new image, and inputs changed in place (or only recorded). */
    readonly replaceKeys: readonly string[];
    readonly updateKeys: readonly string[];
    /**
     * The kind's own checks, and its inputs with defaults (region and the shared inputs are
     * the lifecycle's). `c.failures` so far are the kind's own.
     */
    check(c: Checker, news: Record<string, unknown>, olds: Partial<I>, region: unknown): Promise<Record<string, unknown>> | Record<string, unknown>;
    /** A check that needs the complete inputs (e.g. a lookup); runs last, only when all else passed. */
    checkFinal?(c: Checker, inputs: Record<string, unknown>, olds: Partial<I>): Promise<void>;
    /** What defines the image: its hash is part of the default name. */
    identity(inputs: I): unknown;
    /** The marker tags (besides managed-by) that say which source this kind made an image from. */
    origin(inputs: I): TagMap;
    /** "make it from i-…", "copy it from us-east-1/ami-…": what golden-ami did to make such an image, in messages. */
    originText(inputs: I): string;
    /** What to do when the name is taken by an image golden-ami did not make from this origin. */
    foreignAdvice(existing: Image): string;
    /** Refuses an existing image of the name that can never be this kind's (e.g. the copy's own source). */
    refuseExisting?(existing: Image, inputs: I): void;
    /** "creating image x from instance i-…": what `make` does, for progress and errors. */
    making(inputs: I): string;
    /**
     * Slots to hold from just before `make` until the image is ready (or given up): a copy's
     * place among the copies into its region. None: nothing limits how many are made at once.
     */
    reserve?(inputs: I, step: StepContext): Promise<Release | undefined>;
    /** The one call that makes the image (with what must come first); its ID. */
    make(inputs: I, imageTags: TagMap, snapshotTags: TagMap, step: StepContext): Promise<string>;
    /**
     * The kind's own step once the image is ready; returns extra state for `outputs`.
     * `olds` on update (with `resuming` when a create is being finished), none on create.
     */
    finish(inputs: I, image: Image, step: StepContext, change?: { olds: S; resuming: boolean }): Promise<Partial<S>>;
    /** The kind's state from the shared outputs, the live image and the extra state. */
    outputs(shared: ImageState, inputs: I, image: Image, extra: Partial<S>): S;
    /** State keys as the inputs name them, for diff (e.g. a requested list kept under another key). */
    asInputs?(state: S): Record<string, unknown>;
    /**
     * What `make` set up that must go once the image is ready or given up (a copy into another
     * account: the temporary share of its source), and the state a run that stopped before
     * recorded (`olds`); called on every such path, and on delete. Safe to repeat.
     */
    settle?(inputs: I, step: StepContext, olds?: Partial<S>): Promise<void>;
    /** State a pending image records besides the shared fields. */
    pending?(inputs: I): Partial<S>;
}

/** The value, else the default region; a failure when there is none. */
export function defaulted(c: Checker, property: string, value: unknown): unknown {
    if (value !== undefined) return value;
    try {
        return defaultRegion(currentSettings().region);
    } catch (err) {
        c.fail(property, (err as Error).message);
        return undefined;
    }
}
