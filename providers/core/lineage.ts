/**
 * Generations as data (no I/O): the lineage tags every image and snapshot golden-ami makes
 * carries, the lineage id of a resource, durations, and the retention plan — which retired
 * generations stay (and why) and which go. Rebuilds never break a consumer: an image replaced
 * by a newer generation is retired (deprecated, left registered) and removed only once the
 * plan says nothing needs it any more.
 */
import { shortHash } from "./naming";
import { TagMap } from "./tags";

/** The lineage tag keys (beside MARKER_TAGS in naming.ts; all start with golden-ami:). */
export const LINEAGE_TAGS = {
    /** Stable across rebuilds of one resource: a hash of its URN (stack, project, type, name). */
    lineage: "golden-ami:lineage",
    /** 1, 2, 3, …: one more than the newest generation of the lineage in the region when it was made. */
    generation: "golden-ami:generation",
    /** Hash of what defines the image (the kind's identity). */
    recipe: "golden-ami:recipe-hash",
    /** `region/ami-id` the image was made from: the builder's base AMI, or the copy's source. */
    source: "golden-ami:source-image",
    /** When golden-ami made it (ISO 8601). */
    builtAt: "golden-ami:built-at",
    /** When a newer generation retired it (ISO 8601); absent on the current generation. */
    retiredAt: "golden-ami:retired-at",
} as const;

/** The lineage id of a resource: its URN hashed, so one stack's resource never shares another's lineage. */
export function lineageId(resourceUrn: string | undefined, fallback: string): string {
    return shortHash(resourceUrn ?? fallback, 16);
}

/** The generation in an image's tags, or undefined. */
export function generationOf(tags: TagMap): number | undefined {
    const n = Number(tags[LINEAGE_TAGS.generation]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** What retention keeps: the newest `keep` retired generations, any retired less than `minAge` ago, and anything still in use. */
export interface RetentionArgs {
    /** How many retired generations to keep besides the current one. Default 2. */
    keep?: number;
    /** Keep every generation retired less than this long ago ("30m", "12h", "7d", "2w"). Default "0s". */
    minAge?: string;
    /** Keep every generation an instance was launched from within this window (LastLaunchedTime). Default "14d"; "0s" turns it off. */
    launchedWithin?: string;
    /**
     * Disable (DisableImage: private, unlaunchable, hidden from DescribeImages, restorable with
     * EnableImage) every generation kept longer than this after its retirement, unless something
     * still references it or launched from it within launchedWithin. Unset: never disabled.
     */
    disableAfter?: string;
}

export const DEFAULT_RETENTION = { keep: 2, minAge: "0s", launchedWithin: "14d" } as const;

/** The retention settings: the keys check accepts; the last three are durations. */
export const RETENTION_KEYS = ["keep", "minAge", "launchedWithin", "disableAfter"] as const;
export const RETENTION_DURATIONS = ["minAge", "launchedWithin", "disableAfter"] as const;

/** What destroy does with the current generation: delete it with the lineage (default), or keep it. */
export type OnDestroy = "delete" | "retain";
export const ON_DESTROY_VALUES: readonly OnDestroy[] = ["delete", "retain"];

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration like "90s", "30m", "12h", "7d", "2w" (several parts: "1d12h"); undefined if it is none. */
export function parseDuration(text: unknown): number | undefined {
    if (typeof text !== "string") return undefined;
    const compact = text.trim();
    if (!/^(\d+(\.\d+)?[smhdw])+$/.test(compact)) return undefined;
    let total = 0;
    for (const [, amount, unit] of compact.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) total += Number(amount) * UNIT_MS[unit];
    return total;
}

/** The retention policy in milliseconds, defaults applied (inputs are validated at check). */
export function retentionPolicy(args: RetentionArgs | undefined): { keep: number; minAgeMs: number; launchedWithinMs: number; disableAfterMs?: number } {
    return {
        keep: args?.keep ?? DEFAULT_RETENTION.keep,
        minAgeMs: parseDuration(args?.minAge ?? DEFAULT_RETENTION.minAge) ?? 0,
        launchedWithinMs: parseDuration(args?.launchedWithin ?? DEFAULT_RETENTION.launchedWithin) ?? 0,
        disableAfterMs: args?.disableAfter === undefined ? undefined : parseDuration(args.disableAfter),
    };
}

/** One image of a lineage, as retention sees it. */
export interface GenerationImage {
    imageId: string;
    generation: number;
    /** Epoch ms of retirement; undefined for a generation not retired (yet). */
    retiredAt?: number;
    protected: boolean;
    /** DisableImage'd: still a generation of the lineage, still removable. */
    disabled?: boolean;
    snapshotIds: string[];
}

/** What one retention run decided, as outputs report it. */
export interface RetentionReport {
    kept: Array<{ imageId: string; generation: number; reason: string }>;
    removed: Array<{ imageId: string; generation: number }>;
    /** Kept generations this run disabled (retention.disableAfter); absent when none. */
    disabled?: Array<{ imageId: string; generation: number }>;
}

/** What keeps an image besides count and age: references (ARNs) and the last launch (epoch ms). */
export interface UsageFacts {
    references: Map<string, string[]>;
    lastLaunched: Map<string, number>;
}

/**
 * The retired generations older than the current one, newest first: which are kept and why,
 * which are removed. `usage` is asked only for those neither count nor age keeps (fewer calls).
 */
export function planRetention(
    retired: GenerationImage[],
    policy: ReturnType<typeof retentionPolicy>,
    now: number,
    usage: UsageFacts,
): { kept: RetentionReport["kept"]; remove: GenerationImage[] } {
    const kept: RetentionReport["kept"] = [];
    const remove: GenerationImage[] = [];
    const newestFirst = [...retired].sort((a, b) => b.generation - a.generation);
    newestFirst.forEach((image, index) => {
        const reason = keepReason(image, index, policy, now, usage);
        if (reason) kept.push({ imageId: image.imageId, generation: image.generation, reason });
        else remove.push(image);
    });
    return { kept, remove };
}

/** The retired images neither count nor age keeps: the ones whose usage must be looked up. */
export function needUsage(retired: GenerationImage[], policy: ReturnType<typeof retentionPolicy>, now: number): GenerationImage[] {
    return [...retired]
        .sort((a, b) => b.generation - a.generation)
        .filter((image, index) => index >= policy.keep && now - (image.retiredAt ?? now) >= policy.minAgeMs);
}

/**
 * The kept generations to disable now: retired at least `disableAfter` ago, not disabled yet,
 * and in use by nothing — a referenced image is never disabled, since disabling makes it
 * unlaunchable (and private), which would break the very consumer that keeps it.
 */
export function planDisable(kept: GenerationImage[], policy: ReturnType<typeof retentionPolicy>, now: number, usage: UsageFacts): GenerationImage[] {
    return disableDue(kept, policy, now).filter((image) => !inUse(image, policy, now, usage));
}

/** The kept generations old enough to disable, before usage is known (whose usage must be looked up). */
export function disableDue(kept: GenerationImage[], policy: ReturnType<typeof retentionPolicy>, now: number): GenerationImage[] {
    const after = policy.disableAfterMs;
    if (after === undefined) return [];
    return kept.filter((image) => !image.disabled && image.retiredAt !== undefined && now - image.retiredAt >= after);
}

function inUse(image: GenerationImage, policy: ReturnType<typeof retentionPolicy>, now: number, usage: UsageFacts): boolean {
    if ((usage.references.get(image.imageId) ?? []).length > 0) return true;
    const launched = usage.lastLaunched.get(image.imageId);
    return launched !== undefined && now - launched < policy.launchedWithinMs;
}

function keepReason(image: GenerationImage, index: number, policy: ReturnType<typeof retentionPolicy>, now: number, usage: UsageFacts): string | undefined {
    if (index < policy.keep) return `one of the newest ${policy.keep} retired generations (retention.keep)`;
    const retiredAt = image.retiredAt ?? now;
    if (now - retiredAt < policy.minAgeMs) return `retired ${new Date(retiredAt).toISOString()}, less than retention.minAge ago`;
    const refs = usage.references.get(image.imageId) ?? [];
    if (refs.length > 0) return `still referenced by ${refs.join(", ")}`;
    const launched = usage.lastLaunched.get(image.imageId);
    if (launched !== undefined && now - launched < policy.launchedWithinMs) {
        return `an instance was launched from it at ${new Date(launched).toISOString()}, within retention.launchedWithin`;
    }
    if (image.protected) return "deregistration protection is on (disable it to let retention remove this generation)";
    return undefined;
}
