/**
 * The serialized half of every golden-ami dynamic provider.
 *
 * Pulumi stores a dynamic provider's code in state (`__provider`) and, in the provider
 * process, rebuilds it from there (`delete` and `read` from the copy in state). So what is
 * serialized is only this shim: a few lines that name the resource kind and load the real
 * implementation, `golden-ami/dist/providers/runtime`, in the provider process. That keeps
 * serializing fast and small (the whole AWS SDK is never walked), lets `refresh`/`destroy`
 * run the installed code, and captures no credential, no endpoint and no SDK object.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** The kinds of dynamic resource the runtime module implements. */
export type ProviderKind = "InstanceImage" | "ImageCopy" | "Builder";

/** The golden-ami package this module belongs to (source or dist), or undefined if it is not in one. */
function packageRoot(from: string): string | undefined {
    for (let dir = from; ; dir = path.dirname(dir)) {
        try {
            if (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name === "golden-ami") return dir;
        } catch {
            // no (readable) package.json here: look further up
        }
        if (path.dirname(dir) === dir) return undefined;
    }
}

/**
 * Where the program found golden-ami, relative to its own directory ("node_modules/golden-ami",
 * "node_modules/lib/node_modules/golden-ami", "." inside this repository): relative, so state
 * holds no path of this machine, and the provider process (started in the program's directory)
 * finds a nested copy that resolution by name from there would miss.
 */
export function packageHint(cwd = process.cwd(), from = __dirname): string | undefined {
    const root = packageRoot(from);
    return root === undefined ? undefined : path.relative(cwd, root).split(path.sep).join("/") || ".";
}

/**
 * Loads golden-ami's runtime in the provider process. Self-contained (it is serialized): tries
 * the program's own copy (`hint`), then the name from the program's directory (a direct
 * dependency, or this repository itself through its `exports` map); else an error that says
 * what to do.
 */
export function loadRuntime(hint: string | undefined, cwd: string = process.cwd()): { providers: Record<string, pulumi.dynamic.ResourceProvider> } {
    const nodePath = require("path");
    const nodeModule = require("module");
    const name = "golden-ami/dist/providers/runtime";
    const tried: string[] = [];
    const attempts: Array<() => string> = [
        ...(hint ? [() => require.resolve(nodePath.resolve(cwd, hint, "dist/providers/runtime"))] : []),
        () => nodeModule.createRequire(nodePath.join(cwd, "package.json")).resolve(name),
    ];
    for (const attempt of attempts) {
        let file: string;
        try {
            file = attempt();
        } catch (err) {
            tried.push((err as Error).message.split("\n")[0]);
            continue;
        }
        return require(file);
    }
    throw new Error(
        `golden-ami: the Pulumi provider process (in ${cwd}) cannot load golden-ami's provider code (${name}${hint ? `, expected under ${hint}` : ""}). ` +
            "What to do: install golden-ami in this program's project (`npm install golden-ami`) and run `pulumi up` again; " +
            "inside the golden-ami repository, run `npm ci` (it builds dist/). Tried: " + tried.join("; "),
    );
}

/** A dynamic provider that forwards every call to the runtime's `providers[kind]` in the provider process. */
export function providerShim(kind: ProviderKind, hint = packageHint()): pulumi.dynamic.ResourceProvider {
    const impl = (): pulumi.dynamic.ResourceProvider => loadRuntime(hint).providers[kind];
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
