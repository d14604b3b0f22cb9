/**
 * The checks of the inputs every image kind shares (the kind checks its own first): name,
 * description, tags with the AWS provider's default tags under them, timeout, adoptImageId,
 * the generation settings (retention, onDestroy, the SSM parameter) and the distribution.
 */
import { withDefaultTags } from "../core/aws-settings";
import { ON_DESTROY_VALUES, parseDuration, RETENTION_DURATIONS, RETENTION_KEYS } from "../core/lineage";
import { MAX_USER_TAGS } from "../core/options";
import { TagMap } from "../core/tags";
import { currentSettings } from "../ec2/client";
import { checkDistribution } from "./check-distribution";
import { Checker, containsUnknown } from "./checks";
import { ImageInputs } from "./image-kind";

/** Checks the shared inputs into `c`; the tags to record, the default tags merged under them. */
export function checkSharedInputs(c: Checker, n: Partial<ImageInputs> & Record<string, unknown>, olds: Partial<ImageInputs>, now: number): { tags?: TagMap; snapshotTags?: TagMap } {
    // The AWS provider's default tags, under the resource's own (aws:defaultTags, or the explicit provider's).
    const { defaultTags } = currentSettings();
    const tags = withDefaultTags(defaultTags, n.tags);
    const snapshotTags = withDefaultTags(defaultTags, n.snapshotTags);
    c.region("region", n.region);
    c.amiName("name", n.name);
    c.maxLength("description", n.description, 255);
    c.tags("tags", tags, MAX_USER_TAGS);
    c.tags("snapshotTags", snapshotTags, MAX_USER_TAGS);
    c.positiveNumber("imageTimeoutMinutes", n.imageTimeoutMinutes, "minutes");
    c.id("adoptImageId", n.adoptImageId, "image");
    checkRetention(c, n.retention);
    c.oneOf("onDestroy", n.onDestroy, ON_DESTROY_VALUES);
    checkParameterName(c, "ssmParameterName", n.ssmParameterName);
    c.failures.push(...checkDistribution(n, now, olds));
    return { tags, snapshotTags };
}

/** retention: keep a whole number >= 0; minAge, launchedWithin and disableAfter durations like "12h" or "7d". */
function checkRetention(c: Checker, value: unknown): void {
    if (value === undefined || value === null || containsUnknown(value)) return;
    if (typeof value !== "object" || Array.isArray(value)) {
        c.fail("retention", `retention must be an object like { keep: 2, minAge: "7d", launchedWithin: "14d", disableAfter: "30d" }, not ${JSON.stringify(value)}`);
        return;
    }
    const r = value as Record<string, unknown>;
    if (r.keep !== undefined && (typeof r.keep !== "number" || !Number.isInteger(r.keep) || r.keep < 0)) {
        c.fail("retention.keep", `retention.keep must be a whole number of retired generations to keep, 0 or more, not ${JSON.stringify(r.keep)}`);
    }
    for (const key of RETENTION_DURATIONS) {
        if (r[key] !== undefined && parseDuration(r[key]) === undefined) {
            c.fail(`retention.${key}`, `retention.${key} must be a duration like "90s", "30m", "12h", "7d" or "2w" (parts may combine: "1d12h"), not ${JSON.stringify(r[key])}`);
        }
    }
    for (const key of Object.keys(r)) {
        if (!(RETENTION_KEYS as readonly string[]).includes(key)) c.fail(`retention.${key}`, `retention.${key} is not a retention setting; use ${RETENTION_KEYS.join(", ")}`);
    }
}

/** SSM parameter names: letters, digits and _ . - /; a path starts with /; no aws/ssm prefix; at most 1011 characters and 15 levels. */
function checkParameterName(c: Checker, property: string, value: unknown): void {
    if (!c.string(property, value)) return;
    const problems: string[] = [];
    if (!/^[A-Za-z0-9_.\-/]+$/.test(value)) problems.push("use only letters, digits and _ . - /");
    if (value.includes("/") && !value.startsWith("/")) problems.push("a name with a path must start with /");
    if (/^\/?(aws|ssm)/i.test(value)) problems.push("names may not start with aws or ssm (reserved)");
    if (value.length > 1011) problems.push(`it is ${value.length} characters long; the limit is 1011`);
    if (value.split("/").filter(Boolean).length > 15) problems.push("at most 15 levels of hierarchy");
    if (value.includes("//")) problems.push("empty path levels (//) are not allowed");
    if (problems.length) c.fail(property, `${property}: "${value}" is not a valid SSM parameter name: ${problems.join("; ")} (e.g. "/golden-ami/web/latest")`);
}
