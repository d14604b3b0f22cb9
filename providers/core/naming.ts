/**
 * Deterministic names, idempotency tokens and the marker tags that let a retried create
 * find ("adopt") the image an interrupted one already made, instead of making a second.
 */
import { createHash } from "crypto";

/** Tag keys golden-ami puts on every image and snapshot it creates. */
export const MARKER_TAGS = {
    /** Always "golden-ami": this image was made by golden-ami. */
    managedBy: "golden-ami:managed-by",
    /** The instance an InstanceImage was taken from. */
    sourceInstance: "golden-ami:source-instance",
    /** `region/ami-id` an ImageCopy was copied from. */
    sourceImage: "golden-ami:source-image",
    /** The name of the Builder resource that launched this builder instance. */
    builder: "golden-ami:builder",
    /** The image a verification test instance tests. */
    verifies: "golden-ami:verifies",
} as const;

export const MANAGED_BY_VALUE = "golden-ami";

/** JSON with object keys sorted, so equal values always hash equally. */
export function stableJson(value: unknown): string {
    return JSON.stringify(value, (_key, v) =>
        v && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
            : v,
    );
}

/** A short hex digest of a value's stable JSON. */
export function shortHash(value: unknown, length = 12): string {
    return createHash("sha256").update(stableJson(value)).digest("hex").slice(0, length);
}

/** AMI names: 3-128 characters of letters, digits and ( ) [ ] space . / - ' @ _ */
export const AMI_NAME_PATTERN = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;

/**
 * The default image name: the resource name made AMI-safe, plus a hash of the inputs that
 * define the image. Deterministic, so a retried create looks for the same name.
 */
export function deterministicImageName(resourceName: string, identity: unknown): string {
    const hash = shortHash(identity, 12);
    const safe = resourceName.replace(/[^A-Za-z0-9()[\] ./\-'@_]/g, "-").slice(0, 128 - hash.length - 1);
    return `${safe.length > 0 ? safe : "golden-ami"}-${hash}`;
}

/** A CopyImage ClientToken (at most 64 ASCII characters) derived from the inputs that define the copy. */
export function copyClientToken(identity: unknown): string {
    return `golden-ami-${shortHash(identity, 40)}`;
}

/**
 * A RunInstances ClientToken (at most 64 ASCII characters) derived from the builder's recipe:
 * a retried or resumed create launches nothing new, EC2 answers the instance it launched.
 */
export function builderClientToken(identity: unknown): string {
    return `golden-ami-b-${shortHash(identity, 40)}`;
}

/**
 * The token after `token` when EC2 answers it with an instance that is terminated (a builder of
 * an earlier generation with the same recipe, e.g. after `pulumi destroy`): EC2 keeps a token
 * bound after termination, so the next launch needs a token of its own, derived, so that a
 * retry derives the same one.
 */
export function nextClientToken(token: string, staleInstanceId: string): string {
    return `golden-ami-b-${shortHash({ token, staleInstanceId }, 40)}`;
}

/** The resource name at the end of a URN (`...::web-golden` → `web-golden`); "image" without a URN. */
export function resourceNameFromUrn(urn: string | undefined): string {
    return urn ? urn.slice(urn.lastIndexOf("::") + 2) : "image";
}
