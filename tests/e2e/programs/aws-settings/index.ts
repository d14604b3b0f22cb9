// An InstanceImage of the instance named by config `instanceId` and, when config `copyRegion`
// is set, one ImageCopy of it there, with nothing about accounts or credentials in the program: where they
// act comes from the stack's `aws:*` configuration alone (tests/e2e/aws-settings.test.ts).
import * as pulumi from "@pulumi/pulumi";
import { ImageCopy } from "../../../../providers/resources/image-copy";
import { InstanceImage } from "../../../../providers/resources/instance-image";

const config = new pulumi.Config();
const image = new InstanceImage("golden", {
    instanceId: config.require("instanceId"),
    tags: { role: "web" },
    snapshotTags: { role: "web-disk" },
});
const copyRegion = config.get("copyRegion");
const copy = copyRegion
    ? new ImageCopy("golden-copy", { sourceImageId: image.imageId, sourceRegion: image.region, region: copyRegion, tags: { role: "web-copy" } })
    : undefined;

export const imageId = image.imageId;
export const ownerId = image.ownerId;
export const snapshotIds = image.snapshotIds;
export const copyId = copy?.imageId;
export const copySnapshotIds = copy?.snapshotIds;
