/**
 * The consumer side: read a golden-image stack (build or regional) through a
 * `pulumi.StackReference` and get the AMI ID for a region.
 *
 * A golden-image stack exports (see the top-level index.ts):
 * `{ imageId, imageName, region, regionImageIds: { <region>: <ami-id> }, snapshotIds }`.
 */
import * as pulumi from "@pulumi/pulumi";
import { GoldenAmiError } from "../providers/core/errors";
import { baseImage, resolveRegion } from "./base-image";

/** The stack outputs every golden-image stack (build or regional mode) exports. */
export interface GoldenImageStackOutputs {
    /** AMI ID in the stack's own region. */
    imageId: string;
    /** AMI name (the same in every region). */
    imageName: string;
    /** The stack's own region. */
    region: string;
    /** Region → AMI ID of every image the stack manages (its own region included). */
    regionImageIds: Record<string, string>;
    /** EBS snapshot IDs of the image in the stack's own region. */
    snapshotIds: string[];
}

/** The golden image one consumer uses. */
export interface GoldenImageReference {
    /** The AMI ID for the requested region. */
    imageId: pulumi.Output<string>;
    /** The region the AMI ID is for. */
    region: pulumi.Output<string>;
    /** The AMI name. */
    imageName: pulumi.Output<string>;
    /** Every region → AMI ID the referenced stack offers. */
    regionImageIds: pulumi.Output<Record<string, string>>;
    /** The StackReference (e.g. for further outputs). */
    stack: pulumi.StackReference;
}

/** Options of {@link goldenImageFromStack}. */
export interface GoldenImageFromStackOptions {
    /** Name of the StackReference resource. Default: the stack name (must be unique per program). */
    resourceName?: string;
    /** Parent of the StackReference. */
    parent?: pulumi.Resource;
}

/**
 * The AMI ID for `region` from the region map of a golden-image stack.
 * @throws GoldenAmiError (code `RegionNotInGoldenImage`) naming the regions the stack has and what to do.
 */
export function imageIdForRegion(stackName: string, regionImageIds: unknown, region: string): string {
    if (!regionImageIds || typeof regionImageIds !== "object" || Array.isArray(regionImageIds)) {
        throw new GoldenAmiError(
            `golden-ami: stack "${stackName}" has no regionImageIds output, so it is not a golden-image stack (or it has ` +
                `not been deployed yet). What to do: check the stack name (a file backend names stacks ` +
                `organization/<project>/<stack>) and run \`pulumi up\` in that stack first.`,
            "NotAGoldenImageStack",
        );
    }
    const map = regionImageIds as Record<string, unknown>;
    const id = map[region];
    if (typeof id === "string" && id !== "") return id;
    const have = Object.keys(map).sort();
    throw new GoldenAmiError(
        `golden-ami: stack "${stackName}" has no golden image in ${region}; it has images in ` +
            `${have.length > 0 ? have.join(", ") : "no region"}. What to do: add ${region} to golden-ami:copyToRegions of ` +
            `that stack and run \`pulumi up\` there, or deploy a regional stack for ${region} ` +
            `(golden-ami:mode regional) and reference that one.`,
        "RegionNotInGoldenImage",
    );
}

/**
 * Reads a golden-image stack through a `pulumi.StackReference` and gives the AMI ID for a
 * region. The region defaults to this stack's `aws:region` (else AWS_REGION /
 * AWS_DEFAULT_REGION, else the referenced stack's own region).
 *
 * @param stackName The golden-image stack: `org/project/stack` (Pulumi Cloud), or
 *   `organization/<project>/<stack>` with a file backend. Both stacks must share the backend.
 * @param region The region the AMI is needed in.
 * @returns Outputs; the `imageId` Output fails (the update stops with the message) when the
 *   stack has no image in that region.
 *
 * @example
 * ```ts
 * const golden = goldenImageFromStack("organization/golden-ami/golden-us-east-1", "eu-west-1");
 * new aws.ec2.LaunchTemplate("web", { imageId: golden.imageId, instanceType: "t3.small" });
 * ```
 */
export function goldenImageFromStack(
    stackName: string,
    region?: string,
    options: GoldenImageFromStackOptions = {},
): GoldenImageReference {
    const stack = new pulumi.StackReference(options.resourceName ?? stackName, { name: stackName }, { parent: options.parent });
    let wanted: string | undefined = region;
    if (wanted === undefined) {
        try {
            wanted = resolveRegion();
        } catch {
            wanted = undefined;
        }
    }
    const regionImageIds = stack.getOutput("regionImageIds") as pulumi.Output<Record<string, string>>;
    const resolvedRegion: pulumi.Output<string> =
        wanted !== undefined ? pulumi.output(wanted) : (stack.getOutput("region") as pulumi.Output<string>);
    const imageId = pulumi
        .all([regionImageIds, resolvedRegion])
        .apply(([ids, r]) => imageIdForRegion(stackName, ids, r));
    return {
        imageId,
        region: resolvedRegion,
        imageName: stack.getOutput("imageName") as pulumi.Output<string>,
        regionImageIds,
        stack,
    };
}

/**
 * The golden image a GoldenImage published (`publish`) in an SSM parameter of `region`
 * (default: this stack's `aws:region`), without a StackReference: the sibling of
 * {@link goldenImageFromStack} for stacks in other projects, backends or accounts. Resolved
 * each time the program runs, so a rebuild is picked up by the next `pulumi up`.
 *
 * @example
 * const golden = goldenImageFromParameter("/golden-ami/web/latest");
 * new aws.ec2.LaunchTemplate("app", { imageId: golden.imageId, instanceType: "t3.small" });
 */
export function goldenImageFromParameter(parameterName: string, region?: string): { imageId: pulumi.Output<string>; imageName: pulumi.Output<string>; region: pulumi.Output<string> } {
    const where = resolveRegion(region);
    const image = baseImage({ ssmParameter: parameterName, region: where });
    return { imageId: image.imageId, imageName: image.name, region: pulumi.output(where) };
}
