/**
 * The serialized half of every golden-ami dynamic provider.
 *
 * Pulumi stores a dynamic provider's code in state (`__provider`) and, in the provider
 * process, rebuilds it from there (`delete` and `read` from the copy in state). So what is
 * serialized is only this shim: a few lines that name the resource kind and load the real
 * implementation by package name (`golden-ami/dist/providers/runtime`) in the provider
 * process. `refresh`/`destroy` then run the installed code, serializing stays fast and small,
 * and the shim captures no credential, no endpoint and no SDK object.
 */
import * as pulumi from "@pulumi/pulumi";

/** The kinds of dynamic resource the runtime module implements. */
export type ProviderKind = "InstanceImage" | "ImageCopy";

/** A dynamic provider that forwards every call to `runtime.providers[kind]` in the provider process. */
export function providerShim(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
    const impl = (): pulumi.dynamic.ResourceProvider =>
        // Resolved in the provider process, from the program's directory (or NODE_PATH).
        require("golden-ami/dist/providers/runtime").providers[kind];
    return {
        configure: async (req) => impl().configure?.(req),
        check: async (olds, news) => impl().check!(olds, news),
        diff: async (id, olds, news) => impl().diff!(id, olds, news),
        create: async (inputs) => impl().create(inputs),
        read: async (id, props) => impl().read!(id, props),
        update: async (id, olds, news) => impl().update!(id, olds, news),
        delete: async (id, props) => impl().delete!(id, props),
    };
}

/**
 * The URN a resource will have, as an input value without any dependency. Passing it lets
 * the provider show progress on the resource's own row. `pulumi.createUrn(name, type, parent)`
 * itself carries a dependency on the parent, which the SDK widens to every child of a parent
 * component: siblings (an image and its copies) would then wait for each other forever.
 */
export function ownUrn(name: string, type: string, parent: pulumi.Resource | undefined): pulumi.Output<string> {
    return pulumi.output(new Promise<string>((resolve) => pulumi.createUrn(name, type, parent).apply(resolve)));
}
