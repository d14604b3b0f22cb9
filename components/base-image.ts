/**
 * `baseImage()`: the program-side base-image lookup (public, Amazon-provided, Marketplace or
 * your own AMIs), as a Pulumi Output that other resources take as their `ami`.
 */
import * as pulumi from "@pulumi/pulumi";
import { AwsSettings, awsSettingsFromConfig } from "../providers/core/aws-settings";
import { actingAs } from "../providers/ec2/client";
import { BaseImage, lookupBaseImage } from "../providers/ec2/lookup";
import { defaultRegion } from "../providers/core/region";

export type { BaseImage } from "../providers/ec2/lookup";

/**
 * What base image to look for: either `ssmParameter`, or `owners` + `namePattern` (optionally
 * narrowed by `architecture` and `productCode`). Every field may be an Output.
 */
export interface BaseImageArgs {
    /**
     * Region to look in. Default: the `aws:region` stack configuration, then the
     * AWS_REGION / AWS_DEFAULT_REGION environment variables.
     */
    region?: pulumi.Input<string>;
    /**
     * An SSM public parameter naming an AMI, e.g.
     * `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`.
     * Not combined with `owners`/`namePattern`.
     */
    ssmParameter?: pulumi.Input<string>;
    /** Owner account IDs or aliases (`amazon`, `aws-marketplace`, `self`). Required with `namePattern`. */
    owners?: pulumi.Input<pulumi.Input<string>[]>;
    /** Name pattern with `*` wildcards, e.g. `"al2023-ami-2023.*-x86_64"`. Required with `owners`. */
    namePattern?: pulumi.Input<string>;
    /** `x86_64` | `arm64` | `i386` | `x86_64_mac` | `arm64_mac`. With `ssmParameter`, checked against its image. */
    architecture?: pulumi.Input<string>;
    /** Marketplace product code. With `ssmParameter`, checked against its image. */
    productCode?: pulumi.Input<string>;
    /** Also include deprecated images in a search (default false). */
    includeDeprecated?: pulumi.Input<boolean>;
}

/**
 * The region a lookup runs in: `explicit` if given, else the `aws:region` stack configuration,
 * else AWS_REGION, else AWS_DEFAULT_REGION.
 * @throws GoldenAmiError (code `NoRegion`) saying how to set one when none is set.
 */
export function resolveRegion(explicit?: string): string {
    // The program reads aws:region itself; providers get it through configure() instead.
    return defaultRegion(explicit || new pulumi.Config("aws").get("region"));
}

/**
 * Looks up a base image when the program runs (also at preview, once its inputs are known) and
 * returns it as an Output: the AMI an SSM parameter names, or the most recent available AMI
 * matching `owners` + `namePattern`. Acts with the stack's `aws:*` settings (profile, roles,
 * endpoints), else the credentials and endpoint of the program's environment (AWS_PROFILE,
 * AWS_ENDPOINT_URL, ...).
 *
 * @example
 * ```ts
 * import { baseImage } from "golden-ami/components/base-image";
 *
 * // Latest Amazon Linux 2023 for x86_64, in the stack's aws:region.
 * const al2023 = baseImage({ ssmParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" });
 *
 * // Latest Ubuntu 24.04 from Canonical, for arm64, in a given region.
 * const ubuntu = baseImage({
 *     region: "eu-west-1",
 *     owners: ["099720109477"],
 *     namePattern: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-*",
 *     architecture: "arm64",
 * });
 *
 * const builder = new aws.ec2.Instance("builder", { ami: al2023.imageId, instanceType: "t3.small" });
 * export const baseImageName = al2023.name;
 * ```
 * @throws (in the Output) GoldenAmiError when no region is set, the query is incomplete or
 *   ambiguous, nothing matches (the message shows the filter), or an AWS call fails.
 */
export function baseImage(args: BaseImageArgs): pulumi.Output<BaseImage> {
    return pulumi.output(args).apply((q) =>
        // As the AWS provider of the stack would: its aws:* settings (profile, roles, endpoints).
        actingAs(programAwsSettings(), () => lookupBaseImage({
            region: resolveRegion(q.region),
            ssmParameter: q.ssmParameter,
            owners: q.owners,
            namePattern: q.namePattern,
            architecture: q.architecture,
            productCode: q.productCode,
            includeDeprecated: q.includeDeprecated,
        })),
    );
}

/** The stack's aws:* settings as the program reads them (the provider process gets them through configure). */
function programAwsSettings(): AwsSettings {
    const config = new pulumi.Config("aws");
    return awsSettingsFromConfig((key) => config.get(key.replace(/^aws:/, "")));
}
