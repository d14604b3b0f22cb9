// Benchmark program (bench/bench.ts): images every instance of the JSON config `instanceIds`
// in `aws:region`, and copies each of the first `copiedImages` images (default 1) into every
// region of the JSON config `copyRegions`. Fan-out (a): 1 instance, 5 copy regions;
// fan-out (b): 5 instances, no copies; the no-op stack: 10 instances, 2 copy regions, 10 copied.
import * as pulumi from "@pulumi/pulumi";
import { ImageCopy } from "../../../providers/resources/image-copy";
import { InstanceImage } from "../../../providers/resources/instance-image";

const config = new pulumi.Config();
const region = new pulumi.Config("aws").require("region");
const instanceIds = config.requireObject<string[]>("instanceIds");
const copyRegions = config.getObject<string[]>("copyRegions") ?? [];
const copiedImages = config.getNumber("copiedImages") ?? 1;

const images = instanceIds.map((instanceId, i) => new InstanceImage(`image-${i}`, { instanceId, region }));
const copies = images
    .slice(0, copiedImages)
    .flatMap((image, i) =>
        copyRegions.map((copyRegion) => new ImageCopy(`image-${i}-${copyRegion}`, { sourceImageId: image.imageId, sourceRegion: region, region: copyRegion })),
    );

export const imageIds = images.map((image) => image.imageId);
export const copyImageIds = copies.map((copy) => copy.imageId);
