/**
 * "Created, but not finished": the error a dynamic provider throws so that Pulumi records a
 * resource it did make (ErrorResourceInitFailed) instead of forgetting it.
 *
 * The dynamic-provider host packs `id`, `properties` and `reasons` into the gRPC error; the
 * engine then keeps the resource in state with its ID, `pulumi up` calls `update` on it
 * (which resumes), and `pulumi destroy` deletes it. `properties` must carry `__provider`,
 * or later operations could not rebuild the provider from state.
 */
export class PartialCreateError extends Error {
    readonly reasons: string[];

    constructor(readonly id: string, readonly properties: Record<string, unknown>, cause: Error) {
        super(cause.message);
        this.name = "PartialCreateError";
        this.reasons = [cause.message];
    }
}

/** Keys the dynamic-provider host adds to inputs and needs back in any properties we return. */
export function hostKeys(inputs: Record<string, unknown>): Record<string, unknown> {
    return "__provider" in inputs ? { __provider: inputs.__provider } : {};
}

/**
 * "Made, then rejected": the image was made but failed a check after it (the verification
 * gate) and was deleted with its snapshots. Nothing is left to record, so the lifecycle lets
 * this error through as it is instead of recording a partial create.
 */
export class ImageRejectedError extends Error {
    readonly __pulumiRunError = true;

    constructor(message: string) {
        super(message);
        this.name = "ImageRejectedError";
    }
}
