/**
 * golden-ami's public API: what a Pulumi program imports.
 *
 * - {@link GoldenImage}: the whole pipeline (builder → image → copies → distribution) as one component.
 * - {@link baseImage}: find a base image (SSM parameter, or owners + name pattern).
 * - {@link goldenImageFromStack}: read a golden-image stack from another stack (StackReference).
 * - {@link InstanceImage}, {@link ImageCopy}: the dynamic resources, for programs that wire them by hand.
 */
export { GoldenImage, GOLDEN_IMAGE_TYPE, recipeImageName } from "./golden-image";
export type {
    GoldenImageArgs,
    GoldenImageBuilderArgs,
    GoldenImageCopyArgs,
    GoldenImageDistribution,
    Readiness,
    RegionImageIds,
    RootVolumeArgs,
} from "./golden-image";
export { baseImage } from "./base-image";
export type { BaseImageArgs, BaseImage } from "./base-image";
export { goldenImageFromStack, imageIdForRegion } from "./consumer";
export type { GoldenImageFromStackOptions, GoldenImageReference, GoldenImageStackOutputs } from "./consumer";
export { InstanceImage } from "../providers/instance-image";
export type { InstanceImageArgs, ImageBlockDevice, AfterImage } from "../providers/instance-image";
export { ImageCopy } from "../providers/image-copy";
export type { ImageCopyArgs } from "../providers/image-copy";
export type { DistributionArgs, DistributionInputs } from "../providers/ec2/distribution";
export { GoldenAmiError } from "../providers/ec2/errors";
