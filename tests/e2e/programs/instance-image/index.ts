// Images the instance named by config `instanceId`; every other InstanceImage argument
// can be set from stack config so tests can change one thing between runs.
import * as pulumi from "@pulumi/pulumi";
import { AfterImage } from "../../../../providers/core/options";
import { InstanceImage } from "../../../../providers/resources/instance-image";

const config = new pulumi.Config();
const image = new InstanceImage("golden", {
    instanceId: config.require("instanceId"),
    name: config.get("name"),
    description: config.get("description"),
    tags: config.getObject<Record<string, string>>("tags"),
    snapshotTags: config.getObject<Record<string, string>>("snapshotTags"),
    afterImage: config.get("afterImage") as AfterImage | undefined,
    stopBeforeImage: config.getBoolean("stopBeforeImage"),
    imageTimeoutMinutes: config.getNumber("imageTimeoutMinutes"),
    adoptImageId: config.get("adoptImageId"),
});

export const imageId = image.imageId;
export const imageName = image.name;
export const snapshotIds = image.snapshotIds;
export const state = image.state;
export const tags = image.tags;
