/**
 * Tags as golden-ami handles them: a plain map, EC2's Key/Value list, and the user's tags
 * apart from golden-ami's own marker tags.
 */
import type { Tag } from "@aws-sdk/client-ec2";

/** Tags as a plain map. */
export type TagMap = Record<string, string>;

export function toTagList(tags: TagMap | undefined): Tag[] {
    return Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
}

export function fromTagList(tags: Tag[] | undefined): TagMap {
    const out: TagMap = {};
    for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
    return out;
}

/** Tag keys starting with this are golden-ami's own (see MARKER_TAGS in naming.ts). */
const MARKER_PREFIX = "golden-ami:";

/** The tags without golden-ami's marker tags: what the user sees and declares. */
export function withoutMarkerTags(tags: TagMap): TagMap {
    const out: TagMap = {};
    for (const [k, v] of Object.entries(tags)) if (!k.startsWith(MARKER_PREFIX)) out[k] = v;
    return out;
}

/** undefined for an empty map, so state holds no `{}` to diff against an absent input. */
export function nonEmpty<T extends object>(value: T | undefined): T | undefined {
    return value && Object.keys(value).length > 0 ? value : undefined;
}

