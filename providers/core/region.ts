/**
 * Which region a resource works in, and whether a string can be one: the regions the AWS
 * SDK's own partition data lists (so a region AWS opens is known with the next SDK), any other
 * well-formed name with a warning, and precise words for availability zones, Local Zones and
 * names that are no region at all.
 */
import { partition } from "@aws-sdk/core/client";
import { GoldenAmiError } from "./errors";

/** Region shapes: us-east-1, eu-central-2, us-gov-west-1, us-isob-east-1, cn-north-1, eusc-de-east-1, ... */
const REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+){1,2}-\d{1,2}$/;
/** A zone of a region: its availability zones (us-east-1a), Local Zones (us-west-2-lax-1a), Wavelength Zones (us-east-1-wl1-bos-wlz-1). */
const ZONE_PATTERN = /^([a-z]{2,4}(?:-[a-z]+){1,2}-\d{1,2})(?:[a-z]|-[a-z0-9-]+)$/;

/** True when the SDK's partition data lists the region (an unlisted one only matches a partition's pattern). */
export function isKnownRegion(value: string): boolean {
    return typeof (partition(value) as { description?: unknown }).description === "string";
}

/** Why `value` is not a usable region name, or undefined if it is one (see {@link regionWarning}). */
export function regionProblem(value: string): string | undefined {
    if (isKnownRegion(value)) return undefined;
    const zone = ZONE_PATTERN.exec(value);
    if (zone && isKnownRegion(zone[1])) {
        const kind = /^[a-z0-9-]+\d[a-z]$/.test(value) && !value.slice(zone[1].length).startsWith("-") ? "an availability zone" : "a zone (Local or Wavelength Zone)";
        return `"${value}" is ${kind}, not a region; use "${zone[1]}": AMIs are regional, and an AMI of ${zone[1]} launches in every zone of it`;
    }
    if (!REGION_PATTERN.test(value)) return `"${value}" is not an AWS region name (for example us-east-1)`;
    return undefined;
}

/** A warning for a well-formed region name that the installed AWS SDK does not list (a typo, or a region newer than the SDK). */
export function regionWarning(value: string): string | undefined {
    if (isKnownRegion(value) || regionProblem(value)) return undefined;
    return `golden-ami: "${value}" is not a region the installed AWS SDK knows; check the spelling (for example eu-west-1), or update @aws-sdk/client-ec2 if it is a new region`;
}

/** The stack's `aws:region`, as handed to the provider by `configure`. */
let configuredRegion: string | undefined;

export function setConfiguredRegion(region: string | undefined): void {
    configuredRegion = region || undefined;
}

/** The explicit region, else the stack's aws:region, else AWS_REGION / AWS_DEFAULT_REGION. */
export function defaultRegion(explicit?: string): string {
    const region = explicit || configuredRegion || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    if (!region) {
        throw new GoldenAmiError(
            "golden-ami: no region: set the resource's `region`, or `pulumi config set aws:region <region>`, or AWS_REGION.",
            "NoRegion",
        );
    }
    return region;
}
