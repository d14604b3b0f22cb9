/**
 * golden-ami's public API: what a Pulumi program imports.
 *
 * - {@link GoldenImage}: the whole pipeline (builder → image → copies → distribution) as one component.
 * - {@link baseImage}: find a base image (SSM parameter, or owners + name pattern).
 * - {@link goldenImageFromStack}: read a golden-image stack from another stack (StackReference).
 * - {@link Builder}, {@link InstanceImage}, {@link ImageCopy}: the dynamic resources, for programs that wire them by hand.
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
export { goldenImageFromParameter, goldenImageFromStack, imageIdForRegion } from "./consumer";
export type { GoldenImageFromStackOptions, GoldenImageReference, GoldenImageStackOutputs } from "./consumer";
export { Builder } from "../providers/resources/builder";
export type { BuilderArgs, BuilderRootVolumeArgs, BuilderVolumeArgs } from "../providers/resources/builder";
export { InstanceImage } from "../providers/resources/instance-image";
export type { InstanceImageArgs } from "../providers/resources/instance-image";
export type { ImageBlockDevice, AfterImage } from "../providers/core/options";
export { ImageCopy } from "../providers/resources/image-copy";
export type { ImageCopyArgs } from "../providers/resources/image-copy";
export type { DistributionArgs } from "../providers/core/distribution";
export type { DistributionInputs } from "../providers/resources/distribution-inputs";
export { GoldenAmiError } from "../providers/core/errors";
export type { OnDestroy, RetentionArgs, RetentionReport } from "../providers/core/lineage";
