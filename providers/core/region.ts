/**
 * Which region a resource works in, and whether a string can be one.
 */
import { GoldenAmiError } from "./errors";

/** Region shapes: us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1, cn-north-1, ... */
const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const AZ_PATTERN = /^([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2})[a-z]$/;

/** Commercial and GovCloud regions known when this was written; others get a warning-free pass only if they match the shape. */
export const KNOWN_REGIONS = new Set([
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2", "ap-south-1",
    "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
    "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1", "us-gov-east-1", "us-gov-west-1",
    "cn-north-1", "cn-northwest-1",
]);

/** Why `value` is not a usable region name, or undefined if it is one. */
export function regionProblem(value: string): string | undefined {
    const az = AZ_PATTERN.exec(value);
    if (az && KNOWN_REGIONS.has(az[1])) {
        return `"${value}" is an availability zone, not a region; use "${az[1]}"`;
    }
    if (!REGION_PATTERN.test(value)) return `"${value}" is not an AWS region name (for example us-east-1)`;
    if (!KNOWN_REGIONS.has(value)) return `"${value}" is not a known AWS region; check the spelling (for example eu-west-1)`;
    return undefined;
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
