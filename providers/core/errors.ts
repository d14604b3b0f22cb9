/**
 * The one error mapper: turns AWS SDK errors into messages that say what happened and what
 * to do, and classifies errors for the waiter (throttling, not-found).
 */
import { isThrottlingError } from "@smithy/core/retry";

/** The AWS error code of an SDK error (`InvalidAMIID.NotFound`, ...), if it has one. */
export function awsErrorCode(err: unknown): string | undefined {
    if (!err || typeof err !== "object") return undefined;
    const e = err as { name?: unknown; Code?: unknown; code?: unknown; $metadata?: unknown };
    for (const candidate of [e.Code, e.code, e.$metadata !== undefined ? e.name : undefined]) {
        if (typeof candidate === "string" && candidate !== "" && candidate !== "Error") return candidate;
    }
    return undefined;
}

/** True for throttling answers (`RequestLimitExceeded`, `Throttling`, HTTP 429, ...). */
export function isThrottling(err: unknown): boolean {
    const code = awsErrorCode(err);
    if (code === "RequestLimitExceeded" || code === "Throttling" || code === "ThrottlingException") return true;
    try {
        return isThrottlingError(err as Parameters<typeof isThrottlingError>[0]);
    } catch {
        return false;
    }
}

/** True for EC2's refusal of a copy beyond the concurrent snapshot copies of a destination region (`ResourceLimitExceeded`). */
export function isResourceLimitExceeded(err: unknown): boolean {
    return awsErrorCode(err) === "ResourceLimitExceeded";
}

/** True when the error says the named thing does not exist (`InvalidAMIID.NotFound`, `InvalidSnapshot.NotFound`, ...). */
export function isNotFound(err: unknown): boolean {
    const code = awsErrorCode(err) ?? "";
    return code.endsWith(".NotFound") || code.endsWith("NotFound") || code === "InvalidAMIID.Unavailable";
}

/**
 * An error whose message is meant for the person running `pulumi up`. It carries the marker
 * of `pulumi.RunError` (`RunError.isInstance` is true), so when it ends a Pulumi program the
 * CLI prints its message alone, not an "unhandled exception" with a stack trace; core/ does
 * not depend on Pulumi's SDK, hence the marker rather than the class.
 */
export class GoldenAmiError extends Error {
    readonly __pulumiRunError = true;

    constructor(message: string, readonly code?: string) {
        super(message);
        this.name = "GoldenAmiError";
    }
}

const ADVICE: Record<string, string> = {
    UnauthorizedOperation:
        "the credentials in use lack an EC2 permission this step needs; grant the actions in docs/iam-policy-build.json (docs/iam-policy-target.json for the role of an account copies are made in). " +
        "AWS encodes why it refused in the message: decode it with `aws sts decode-authorization-message --encoded-message <message>` (needs sts:DecodeAuthorizationMessage)",
    AuthFailure: "AWS rejected the credentials; check AWS_PROFILE / AWS_ACCESS_KEY_ID and the clock of this machine",
    RequestLimitExceeded:
        "EC2 kept throttling this account after all retries; run again later or lower the number of parallel builds",
    ResourceLimitExceeded:
        "EC2 kept refusing the copy: too many snapshot copies in flight into this region (its quota is 20, also counting other stacks' and console copies); lower golden-ami:copySlotsPerRegion, or run again once they are done",
    "InvalidAMIID.NotFound": "the image does not exist in this region and account; check the ID and the region",
    "InvalidAMIID.Malformed": "an AMI ID looks like ami- followed by 8 or 17 hex digits",
    "InvalidInstanceID.NotFound": "the instance does not exist in this region; check the instance ID and the region",
    "InvalidInstanceID.Malformed": "an instance ID looks like i- followed by 8 or 17 hex digits",
    IncorrectInstanceState: "the instance is in a state that does not allow this step; see its state in the EC2 console",
    "InvalidAMIName.Duplicate": "an image with this name already exists; choose another name or `pulumi import` the existing image",
    "InvalidAMIName.Malformed": "AMI names are 3-128 characters of letters, digits and ( ) [ ] space . / - ' @ _",
    OperationNotPermitted:
        "the image has deregistration protection; set deregistrationProtection to false (or run aws ec2 disable-image-deregistration-protection) first",
    "InvalidKMSKey.InvalidState": "the KMS key is disabled or pending deletion; enable it or choose another key",
    "InvalidParameterValue": "a parameter was rejected by EC2; the message above names it",
    "InvalidRegion": "the region is not enabled for this account or does not exist",
    "OptInRequired": "the account is not subscribed to this region or Marketplace product; opt in first",
    // Not an AWS code: EC2 says OperationNotPermitted; distribution.ts refines it by the message.
    "OperationNotPermitted.ImageBlockPublicAccess":
        "block public access for AMIs is on for this account in this region; lift it with `aws ec2 disable-image-block-public-access --region <region>` (it can take up to 10 minutes to take effect) and run again, or set public to false",
    ParameterNotFound:
        "the SSM parameter does not exist in this region; check its name (AWS public parameters start with /aws/service/) and the region",
};

/**
 * Wraps an AWS error with what golden-ami was doing and what to do about it.
 * `doing` reads as a phrase: "creating image my-golden from instance i-0123".
 */
export function explainAwsError(err: unknown, doing: string): GoldenAmiError {
    if (err instanceof GoldenAmiError) return err;
    const code = awsErrorCode(err);
    const detail = err instanceof Error ? err.message : String(err);
    const advice = code ? ADVICE[code] : undefined;
    const what = code && !detail.startsWith(code) ? `${code}: ${detail}` : detail;
    const todo = advice ? ` What to do: ${advice}.` : "";
    return new GoldenAmiError(`golden-ami: ${doing} failed: ${what.replace(/\.?$/, ".")}${todo}`, code);
}

/** Who golden-ami acted as when an error happened (ec2/identity.ts finds it out). */
export interface ActingIdentity {
    region: string;
    account?: string;
    arn?: string;
}

/** Codes whose cause is often another account or region than the one meant: the error names who golden-ami acted as. */
function namesIdentity(code: string | undefined): boolean {
    if (!code) return false;
    return isNotFound({ Code: code }) || code === "UnauthorizedOperation" || code === "AuthFailure" || code === "ForbiddenAccount" || code === "AccessDenied";
}

/** Marker that an error's message already says who golden-ami acted as. */
const ACTED_AS = "golden-ami acted as";

/** "account 111122223333 (arn:…) in us-east-1", or the region alone when the account is not known. */
export function describeIdentity(who: ActingIdentity): string {
    if (!who.account) return `unknown credentials (account not looked up) in ${who.region}`;
    return `account ${who.account}${who.arn ? ` (${who.arn})` : ""} in ${who.region}`;
}

/**
 * The error with who golden-ami acted as added to its message, for a not-found, unauthorized or
 * forbidden-account error (the usual sign of the wrong account, profile, role or region); any
 * other error unchanged. An AWS error is first explained (`doing`).
 */
export function withIdentity(err: unknown, who: ActingIdentity, doing: string): unknown {
    const code = err instanceof GoldenAmiError ? err.code : awsErrorCode(err);
    if (!namesIdentity(code)) return err;
    const explained = err instanceof GoldenAmiError ? err : explainAwsError(err, doing);
    if (explained.message.includes(ACTED_AS)) return explained;
    const named = new GoldenAmiError(`${explained.message} (${ACTED_AS} ${describeIdentity(who)}.)`, explained.code);
    return named;
}
