// Copies the image named by config `sourceImageId` (in `sourceRegion`) once per entry of the
// JSON config `copies` ({ "<resource name>": { region, encrypted, kmsKeyId, launchAccounts, ... } }),
// so tests can add, change and remove copies and their settings between runs.
import * as pulumi from "@pulumi/pulumi";
import { ImageCopy, ImageCopyArgs } from "../../../../providers/resources/image-copy";

type CopyConfig = Omit<ImageCopyArgs, "sourceImageId" | "sourceRegion">;

const config = new pulumi.Config();
const sourceImageId = config.require("sourceImageId");
const sourceRegion = config.get("sourceRegion");
const copies = config.getObject<Record<string, CopyConfig>>("copies") ?? {};

const made = Object.entries(copies).map(([name, args]) => [name, new ImageCopy(name, { ...args, sourceImageId, sourceRegion })] as const);

export const copyOutputs = pulumi.output(
    Object.fromEntries(
        made.map(([name, copy]) => [
            name,
            {
                imageId: copy.imageId,
                imageName: copy.name,
                region: copy.region,
                state: copy.state,
                snapshotIds: copy.snapshotIds,
                encrypted: copy.encrypted,
                kmsKeyId: copy.kmsKeyId,
                blockDeviceMappings: copy.blockDeviceMappings,
                launchAccounts: copy.launchAccounts,
                shareSnapshots: copy.shareSnapshots,
                deprecateAt: copy.deprecateAt,
            },
        ]),
    ),
);
