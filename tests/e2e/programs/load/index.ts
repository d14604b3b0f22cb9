// One InstanceImage per instance of config `instanceIds` (a JSON list), each copied into every
// region of config `copyRegions`: the load test's 20 images x 3 regions in one stack.
import * as pulumi from "@pulumi/pulumi";
import { ImageCopy } from "../../../../providers/resources/image-copy";
import { InstanceImage } from "../../../../providers/resources/instance-image";

const config = new pulumi.Config();
const instanceIds = config.requireObject<string[]>("instanceIds");
const copyRegions = config.requireObject<string[]>("copyRegions");
const region = new pulumi.Config("aws").require("region");

export const regionImageIds = instanceIds.map((instanceId, i) => {
    const image = new InstanceImage(`golden-${i}`, { instanceId });
    const copies = copyRegions.map((to) => new ImageCopy(`golden-${i}-${to}`, { sourceImageId: image.imageId, sourceRegion: region, region: to }));
    return pulumi.all([image.imageId, ...copies.map((c) => c.imageId)]).apply(([own, ...copied]) => ({
        [region]: own,
        ...Object.fromEntries(copyRegions.map((to, j) => [to, copied[j]])),
    }));
});
