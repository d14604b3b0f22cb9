// A GoldenImage built in the stack's account from config `baseImageId`, its root volume encrypted
// with the customer managed key `sourceKeyId` (an aws/ebs source cannot be copied by another
// account), copied into the account of config `targetRole` (copyToAccounts) — tests/e2e/accounts.test.ts.
import * as pulumi from "@pulumi/pulumi";
import { GoldenImage } from "../../../../components/golden-image";

const config = new pulumi.Config();
const golden = new GoldenImage("golden", {
    builder: {
        baseImageId: config.require("baseImageId"),
        userData: "#!/bin/bash\necho customised\nshutdown -h now\n",
        rootVolume: { kmsKeyId: config.require("sourceKeyId") },
    },
    copyToAccounts: [{ accountId: config.require("targetAccount"), roleArn: config.require("targetRole") }],
    tags: { role: "web" },
});

export const imageId = golden.imageId;
export const imageOwner = golden.image.ownerId;
export const snapshotIds = golden.snapshotIds;
export const accountImageIds = golden.accountImageIds;
