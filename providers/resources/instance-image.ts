/**
 * InstanceImage, the program-side resource: an AMI made from an EC2 instance — stopped
 * first (data integrity), imaged, and waited for until the image is available and every EBS
 * snapshot behind it has completed. The provider side is lifecycle/instance-image.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { AfterImage, BuilderReadiness, ImageBlockDevice, VerifySettings } from "../core/options";
import { ImageResource, ImageResourceArgs } from "./image-resource";

export type { AfterImage, ImageBlockDevice } from "../core/options";

/** Arguments of an {@link InstanceImage}; the shared ones ({@link ImageResourceArgs}, distribution included) are changed in place. */
export interface InstanceImageArgs extends ImageResourceArgs {
    /** The instance to image (`i-...`). It is stopped first unless `stopBeforeImage` is false. Changing it makes a new image. */
    instanceId: pulumi.Input<string>;
    /**
     * Region of the instance and the image. Default: the stack's `aws:region`, else
     * `AWS_REGION` / `AWS_DEFAULT_REGION`. Changing it makes a new image.
     */
    region?: pulumi.Input<string>;
    /**
     * AMI name (3-128 characters of letters, digits and `( ) [ ] space . / - ' @ _`; unique per
     * region and account). Default: the resource name plus a hash of what defines the image,
     * so a retried create finds the image it already made, and a rebuild gets a new name.
     * Changing it makes a new image.
     */
    name?: pulumi.Input<string>;
    /** Overrides of the instance's block devices in the image: leave out or resize volumes. Changing them makes a new image. */
    blockDeviceMappings?: pulumi.Input<pulumi.Input<ImageBlockDevice>[]>;
    /**
     * Stop the instance before imaging (default true): the only way to get a consistent file
     * system. `false` images the running instance with NoReboot — crash-consistent only, like
     * pulling the power cord. Changing it makes a new image.
     */
    stopBeforeImage?: pulumi.Input<boolean>;
    /**
     * The instance's state once the image is available: `"stopped"` (default), `"running"`
     * (started again) or `"terminated"` (for a builder: nothing of it is left; GoldenImage's default).
     */
    afterImage?: pulumi.Input<AfterImage>;
    /**
     * Wait, before imaging, until the builder is done customising: `"stopped"` = until it
     * powers itself off at the end of its user data (`shutdown -h now` with shutdown behaviour
     * "stop"); `"status-ok"` = until it runs with both status checks passed; `"none"` (default) =
     * image it as it is. On timeout the error shows the tail of its console output.
     */
    waitForBuilder?: pulumi.Input<BuilderReadiness>;
    /** How long the builder may take to become ready (`waitForBuilder`), in minutes. Default 30. */
    provisioningTimeoutMinutes?: pulumi.Input<number>;
    /** How long stopping (or starting) the instance may take, in minutes. Default 10. */
    stopTimeoutMinutes?: pulumi.Input<number>;
    /**
     * The verification gate: once the image is available, and before it is finished (shared;
     * copies wait for it), an instance is launched from it and judged: running with both
     * status checks passed, or, with `userData` (a test script), powered off by the script with
     * `GOLDEN-AMI-OK` in its console output. It is terminated either way. A failed image is
     * deleted with its snapshots and the error shows the test instance's console tail.
     */
    verify?: pulumi.Input<VerifySettings>;
    /**
     * The account the instance was launched in (GoldenImage sets it from its builder's state):
     * when the instance is not visible, the error names it beside the account golden-ami acted
     * as. Only recorded.
     */
    instanceAccountId?: pulumi.Input<string | undefined>;
}

/**
 * An AMI made from an EC2 instance: stopped first (unless told otherwise), imaged, and
 * waited for until the image is available and every snapshot has completed.
 *
 * @example
 * const image = new InstanceImage("web-golden", {
 *     instanceId: builder.id,
 *     tags: { team: "platform" },
 * });
 * export const amiId = image.imageId;
 */
export class InstanceImage extends ImageResource {
    /** The instance the image was made from. */
    declare public readonly sourceInstanceId: pulumi.Output<string>;

    constructor(name: string, args: InstanceImageArgs, opts?: pulumi.CustomResourceOptions) {
        // blockDeviceMappings is an input (overrides) and an output (the image's mappings).
        super("InstanceImage", name, args, { ...args, blockDeviceMappings: args.blockDeviceMappings, sourceInstanceId: undefined }, opts);
    }
}
