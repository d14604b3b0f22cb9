// One table of invalid inputs, each refused at preview by the `check` of InstanceImage,
// ImageCopy or Builder (the distribution inputs, which both share, go through InstanceImage's) with the
// offending property named and a message that says what is wrong; nothing else may be blamed.
// Prints `bad inputs refused: N/N`. Inputs that only EC2 can judge (a name taken by a foreign
// image, a terminated instance, an instance in another region) are refused at create:
// tests/integration/refused-at-create.test.ts.
import * as assert from "node:assert/strict";
import { providers } from "../../providers/runtime";
import { CheckFailure } from "../../providers/lifecycle/checks";
import { setConfiguredRegion } from "../../providers/core/region";
import { badInputTally, recordBadInput } from "../support/reliability-summary";

const instanceImageProvider = providers.InstanceImage;
const imageCopyProvider = providers.ImageCopy;
const builderProvider = providers.Builder;

const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:InstanceImage::web";
const INSTANCE = "i-0123456789abcdef0";
const IMAGE = "ami-0123456789abcdef0";
const SNAPSHOT = "snap-0123456789abcdef0";

/** Valid inputs of each route; a row overrides (or, with `undefined`, removes) some of them. */
const VALID_INSTANCE_IMAGE = { instanceId: INSTANCE, region: "us-east-1", resourceUrn: URN };
const VALID_IMAGE_COPY = {
    sourceImageId: IMAGE,
    sourceRegion: "us-east-1",
    region: "eu-west-1",
    resourceUrn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:ImageCopy::web-eu",
};

const VALID_BUILDER = { baseImageId: IMAGE, region: "us-east-1", resourceUrn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:Builder::web-builder" };

type Route = "InstanceImage" | "ImageCopy" | "Builder";

interface BadInput {
    route: Route;
    what: string;
    input: Record<string, unknown>;
    /** The property the failure must name (exactly, or as the prefix of `prop.key` / `prop[i]`). */
    property: string;
    /** A fragment of the failure's reason. */
    says: string | RegExp;
}

const longName = "a".repeat(129);

const ROWS: BadInput[] = [
    // --- IDs -------------------------------------------------------------------------------
    { route: "InstanceImage", what: "instance ID too short", input: { instanceId: "i-123" }, property: "instanceId", says: "is not a valid instance ID" },
    { route: "InstanceImage", what: "AMI ID where an instance ID is expected", input: { instanceId: IMAGE }, property: "instanceId", says: "is not a valid instance ID" },
    { route: "InstanceImage", what: "instance ID in upper case", input: { instanceId: "i-0123456789ABCDEF0" }, property: "instanceId", says: "lowercase hex" },
    { route: "InstanceImage", what: "instance ID with a leading space", input: { instanceId: ` ${INSTANCE}` }, property: "instanceId", says: "is not a valid instance ID" },
    { route: "InstanceImage", what: "instance ID missing", input: { instanceId: undefined }, property: "instanceId", says: "instanceId is required" },
    { route: "InstanceImage", what: "instance ID not a string", input: { instanceId: 12345 }, property: "instanceId", says: "must be a string" },
    { route: "InstanceImage", what: "adoptImageId with 9 hex digits", input: { adoptImageId: "ami-123456789" }, property: "adoptImageId", says: "is not a valid image ID" },
    { route: "InstanceImage", what: "snapshot ID as adoptImageId", input: { adoptImageId: SNAPSHOT }, property: "adoptImageId", says: "is not a valid image ID" },
    { route: "InstanceImage", what: "empty adoptImageId", input: { adoptImageId: "" }, property: "adoptImageId", says: "is not a valid image ID" },

    // --- regions ---------------------------------------------------------------------------
    { route: "InstanceImage", what: "availability zone as region", input: { region: "us-east-1a" }, property: "region", says: 'is an availability zone, not a region; use "us-east-1"' },
    { route: "InstanceImage", what: "availability zone of another region", input: { region: "eu-west-2c" }, property: "region", says: 'use "eu-west-2"' },
    { route: "InstanceImage", what: "Local Zone as region", input: { region: "us-west-2-lax-1a" }, property: "region", says: 'is a zone (Local or Wavelength Zone), not a region; use "us-west-2"' },
    { route: "InstanceImage", what: "region without its number", input: { region: "us-east" }, property: "region", says: "is not an AWS region name" },
    { route: "InstanceImage", what: "region in upper case", input: { region: "US-EAST-1" }, property: "region", says: "is not an AWS region name" },

    // --- AMI names -------------------------------------------------------------------------
    { route: "InstanceImage", what: "AMI name of 2 characters", input: { name: "ab" }, property: "name", says: "is not a valid AMI name" },
    { route: "InstanceImage", what: "AMI name of 129 characters", input: { name: longName }, property: "name", says: "3-128 characters" },
    { route: "InstanceImage", what: "AMI name with #", input: { name: "web#golden" }, property: "name", says: "is not a valid AMI name" },
    { route: "InstanceImage", what: "AMI name with a colon", input: { name: "web:golden" }, property: "name", says: "is not a valid AMI name" },
    { route: "InstanceImage", what: "AMI name with a non-ASCII letter", input: { name: "café-golden" }, property: "name", says: "is not a valid AMI name" },
    { route: "InstanceImage", what: "description of 256 characters", input: { description: "d".repeat(256) }, property: "description", says: "the limit is 255" },

    // --- timeouts --------------------------------------------------------------------------
    { route: "InstanceImage", what: "stopTimeoutMinutes 0", input: { stopTimeoutMinutes: 0 }, property: "stopTimeoutMinutes", says: "greater than 0" },
    { route: "InstanceImage", what: "imageTimeoutMinutes negative", input: { imageTimeoutMinutes: -5 }, property: "imageTimeoutMinutes", says: "greater than 0" },
    { route: "InstanceImage", what: "imageTimeoutMinutes as a string", input: { imageTimeoutMinutes: "60" }, property: "imageTimeoutMinutes", says: "must be a number of minutes" },

    // --- enums and flags -------------------------------------------------------------------
    { route: "InstanceImage", what: "afterImage unknown", input: { afterImage: "hibernated" }, property: "afterImage", says: 'must be one of "stopped", "running", "terminated"' },
    { route: "InstanceImage", what: "afterImage in another case", input: { afterImage: "Running" }, property: "afterImage", says: "must be one of" },
    { route: "InstanceImage", what: "stopBeforeImage as a string", input: { stopBeforeImage: "false" }, property: "stopBeforeImage", says: "must be true or false" },
    { route: "InstanceImage", what: "volume type unknown", input: { blockDeviceMappings: [{ deviceName: "/dev/sdf", volumeType: "gp4" }] }, property: "blockDeviceMappings[0].volumeType", says: "must be one of" },
    { route: "InstanceImage", what: "device name without /dev/", input: { blockDeviceMappings: [{ deviceName: "sdf", volumeSize: 20 }] }, property: "blockDeviceMappings[0].deviceName", says: "is not a device name" },
    { route: "InstanceImage", what: "device listed twice", input: { blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true }, { deviceName: "/dev/sdf", volumeSize: 20 }] }, property: "blockDeviceMappings[1].deviceName", says: "is listed twice" },
    { route: "InstanceImage", what: "volume size 0", input: { blockDeviceMappings: [{ deviceName: "/dev/sdf", volumeSize: 0 }] }, property: "blockDeviceMappings[0].volumeSize", says: "whole number from 1 to 65536" },
    { route: "InstanceImage", what: "noDevice with a size", input: { blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true, volumeSize: 20 }] }, property: "blockDeviceMappings[0]", says: "a noDevice entry leaves the volume out" },
    { route: "InstanceImage", what: "negative IOPS", input: { blockDeviceMappings: [{ deviceName: "/dev/sdf", volumeType: "io2", iops: -5 }] }, property: "blockDeviceMappings[0].iops", says: "iops" },
    { route: "InstanceImage", what: "throughput as a word", input: { blockDeviceMappings: [{ deviceName: "/dev/sdf", volumeType: "gp3", throughput: "fast" }] }, property: "blockDeviceMappings[0].throughput", says: "throughput" },
    { route: "InstanceImage", what: "deleteOnTermination as a string", input: { blockDeviceMappings: [{ deviceName: "/dev/sdf", deleteOnTermination: "yes" }] }, property: "blockDeviceMappings[0].deleteOnTermination", says: "true or false" },

    // --- tags ------------------------------------------------------------------------------
    { route: "InstanceImage", what: "reserved tag key aws:", input: { tags: { "aws:team": "platform" } }, property: "tags", says: "reserved by AWS" },
    { route: "InstanceImage", what: "reserved tag key AWS: (any case)", input: { snapshotTags: { "AWS:backup": "no" } }, property: "snapshotTags", says: "reserved by AWS" },
    { route: "InstanceImage", what: "golden-ami's own marker tag key", input: { tags: { "golden-ami:managed-by": "me" } }, property: "tags", says: "golden-ami's own marker tags" },
    { route: "InstanceImage", what: "empty tag key", input: { tags: { "": "x" } }, property: "tags", says: "1-128 characters" },
    { route: "InstanceImage", what: "tag value of 257 characters", input: { tags: { team: "v".repeat(257) } }, property: "tags", says: "at most 256 characters" },
    { route: "InstanceImage", what: "tags as a list", input: { tags: ["team=platform"] }, property: "tags", says: "must be a map" },
    { route: "InstanceImage", what: "43 tags", input: { tags: Object.fromEntries(Array.from({ length: 43 }, (_, i) => [`k${i}`, "v"])) }, property: "tags", says: "at most 42" },

    // --- distribution (shared by InstanceImage and ImageCopy): share targets, deprecation ----
    { route: "InstanceImage", what: "account ID of 11 digits", input: { launchAccounts: ["12345678901"] }, property: "launchAccounts", says: "is not a 12-digit AWS account ID" },
    { route: "InstanceImage", what: "IAM ARN as an account", input: { launchAccounts: ["arn:aws:iam::123456789012:root"] }, property: "launchAccounts", says: "is not a 12-digit AWS account ID" },
    { route: "InstanceImage", what: "account as a number", input: { launchAccounts: [123456789012] }, property: "launchAccounts", says: "must be a string" },
    { route: "InstanceImage", what: "launchAccounts not a list", input: { launchAccounts: "123456789012" }, property: "launchAccounts", says: "must be a list" },
    { route: "InstanceImage", what: "bare organization ID", input: { launchOrganizations: ["o-abcde12345"] }, property: "launchOrganizations", says: "is not an organization ARN" },
    { route: "InstanceImage", what: "OU ARN as an organization", input: { launchOrganizations: ["arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdef12"] }, property: "launchOrganizations", says: "is not an organization ARN" },
    { route: "InstanceImage", what: "organization ARN as an OU", input: { launchOrganizationalUnits: ["arn:aws:organizations::123456789012:organization/o-abcde12345"] }, property: "launchOrganizationalUnits", says: "is not an organizational unit ARN" },
    { route: "InstanceImage", what: "bare OU ID", input: { launchOrganizationalUnits: ["ou-ab12-abcdef12"] }, property: "launchOrganizationalUnits", says: "is not an organizational unit ARN" },
    { route: "InstanceImage", what: "shareSnapshots without accounts", input: { shareSnapshots: true }, property: "shareSnapshots", says: "launchAccounts, which is empty" },
    { route: "InstanceImage", what: "public as a string", input: { public: "yes" }, property: "public", says: "must be true or false" },
    { route: "InstanceImage", what: "deprecateAt in the past", input: { deprecateAt: "2020-01-01T00:00:00Z" }, property: "deprecateAt", says: "is not in the future" },
    { route: "InstanceImage", what: "deprecateAt unparsable", input: { deprecateAt: "next tuesday" }, property: "deprecateAt", says: "is not an ISO 8601 UTC time" },
    { route: "InstanceImage", what: "deprecateAt on February 30th", input: { deprecateAt: "2030-02-30T00:00:00Z" }, property: "deprecateAt", says: "is not an ISO 8601 UTC time" },
    { route: "InstanceImage", what: "deprecateAt without a time zone", input: { deprecateAt: "2030-01-31T00:00:00" }, property: "deprecateAt", says: "is not an ISO 8601 UTC time" },
    { route: "InstanceImage", what: "deprecateAt more than 10 years ahead", input: { deprecateAt: "2099-01-01T00:00:00Z" }, property: "deprecateAt", says: "more than 10 years" },

    // --- ImageCopy: source, regions, KMS keys, copy options --------------------------------
    { route: "ImageCopy", what: "source AMI ID too short", input: { sourceImageId: "ami-12" }, property: "sourceImageId", says: "is not a valid image ID" },
    { route: "ImageCopy", what: "instance ID as the source image", input: { sourceImageId: INSTANCE }, property: "sourceImageId", says: "is not a valid image ID" },
    { route: "ImageCopy", what: "snapshot ID as the source image", input: { sourceImageId: SNAPSHOT }, property: "sourceImageId", says: "is not a valid image ID" },
    { route: "ImageCopy", what: "source image missing", input: { sourceImageId: undefined }, property: "sourceImageId", says: "sourceImageId is required" },
    { route: "ImageCopy", what: "availability zone as source region", input: { sourceRegion: "us-east-1b" }, property: "sourceRegion", says: 'is an availability zone, not a region; use "us-east-1"' },
    { route: "ImageCopy", what: "availability zone as destination region", input: { region: "eu-west-1b" }, property: "region", says: 'is an availability zone, not a region; use "eu-west-1": AMIs are regional' },
    { route: "ImageCopy", what: "KMS key as a bare word", input: { kmsKeyId: "my-key" }, property: "kmsKeyId", says: "is not a KMS key ID, key ARN, alias or alias ARN" },
    { route: "ImageCopy", what: "KMS key ID in upper case", input: { kmsKeyId: "1234ABCD-12AB-34CD-56EF-1234567890AB" }, property: "kmsKeyId", says: "is not a KMS key ID" },
    { route: "ImageCopy", what: "KMS key ARN with a malformed key ID", input: { kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/not-a-key" }, property: "kmsKeyId", says: "is not a valid KMS key or alias ARN" },
    { route: "ImageCopy", what: "KMS key of another region than the copy", input: { kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }, property: "kmsKeyId", says: "KMS keys are regional" },
    { route: "ImageCopy", what: "KMS key with encrypted false", input: { kmsKeyId: "alias/golden", encrypted: false }, property: "kmsKeyId", says: "encrypted is false" },
    { route: "ImageCopy", what: "encrypted as a string", input: { encrypted: "true" }, property: "encrypted", says: "must be true or false" },
    { route: "ImageCopy", what: "copyImageTags as a number", input: { copyImageTags: 1 }, property: "copyImageTags", says: "must be true or false" },
    { route: "ImageCopy", what: "time-based copy of 20 minutes (not a step of 15)", input: { snapshotCopyCompletionDurationMinutes: 20 }, property: "snapshotCopyCompletionDurationMinutes", says: "in steps of 15" },
    { route: "ImageCopy", what: "time-based copy of 0 minutes", input: { snapshotCopyCompletionDurationMinutes: 0 }, property: "snapshotCopyCompletionDurationMinutes", says: "from 15 to 2880" },
    { route: "ImageCopy", what: "copy imageTimeoutMinutes 0", input: { imageTimeoutMinutes: 0 }, property: "imageTimeoutMinutes", says: "greater than 0" },
    { route: "ImageCopy", what: "copy name with a slash-star", input: { name: "golden/*" }, property: "name", says: "is not a valid AMI name" },
    { route: "ImageCopy", what: "reserved tag key on the copy's snapshots", input: { snapshotTags: { "aws:x": "y" } }, property: "snapshotTags", says: "reserved by AWS" },
    { route: "ImageCopy", what: "copy shared with a 13-digit account", input: { launchAccounts: ["1234567890123"] }, property: "launchAccounts", says: "is not a 12-digit AWS account ID" },
    { route: "ImageCopy", what: "copy deprecated in the past", input: { deprecateAt: "2001-09-09T01:46:40Z" }, property: "deprecateAt", says: "is not in the future" },

    // --- the verification gate -------------------------------------------------------------
    { route: "InstanceImage", what: "a test script with no success marker", input: { verify: { userData: "#!/bin/bash\ncurl -f localhost\n" } }, property: "verify", says: "must print GOLDEN-AMI-OK" },
    { route: "InstanceImage", what: "a test instance in a subnet given by name", input: { verify: { subnetId: "private-a" } }, property: "verify", says: "is not a valid subnet ID" },
    { route: "InstanceImage", what: "a test timeout of 0 minutes", input: { verify: { timeoutMinutes: 0 } }, property: "verify", says: "greater than 0" },

    // --- the builder -----------------------------------------------------------------------
    { route: "Builder", what: "builder without a base image", input: { baseImageId: undefined }, property: "baseImageId", says: "baseImageId is required" },
    { route: "Builder", what: "builder base image that is a snapshot ID", input: { baseImageId: SNAPSHOT }, property: "baseImageId", says: "is not a valid image ID" },
    { route: "Builder", what: "subnet given by its CIDR", input: { subnetId: "10.0.1.0/24" }, property: "subnetId", says: "is not a valid subnet ID" },
    { route: "Builder", what: "subnet ID with 9 hex digits", input: { subnetId: "subnet-123456789" }, property: "subnetId", says: "subnet- followed by 8 or 17" },
    { route: "Builder", what: "security group by name", input: { vpcSecurityGroupIds: ["default"] }, property: "vpcSecurityGroupIds", says: "is not a valid security group ID" },
    { route: "Builder", what: "instance type without a size", input: { instanceType: "t3" }, property: "instanceType", says: "is not an instance type" },
    { route: "Builder", what: "unknown readiness", input: { waitFor: "running" }, property: "waitFor", says: 'must be one of "none", "stopped", "status-ok"' },
    { route: "Builder", what: "root volume of 0 GiB", input: { rootVolume: { sizeGiB: 0 } }, property: "rootVolume", says: "from 1 to 65536" },
    { route: "Builder", what: "unencrypted root volume with a KMS key", input: { rootVolume: { encrypted: false, kmsKeyId: "alias/k" } }, property: "rootVolume", says: "encrypted is false" },
    { route: "Builder", what: "extra volume at the root device name", input: { volumes: [{ deviceName: "/dev/xvda", sizeGiB: 10 }] }, property: "volumes", says: "is not a data device name" },
    { route: "Builder", what: "extra volume without a size", input: { volumes: [{ deviceName: "/dev/sdf" }] }, property: "volumes", says: "sizeGiB is required" },
    { route: "Builder", what: "builder tag with a golden-ami: key", input: { tags: { "golden-ami:builder": "x" } }, property: "tags", says: "golden-ami's own marker tags" },
    { route: "Builder", what: "provisioning timeout of 0", input: { provisioningTimeoutMinutes: 0 }, property: "provisioningTimeoutMinutes", says: "greater than 0" },
];

/** Runs one row through the check it belongs to. */
async function failuresOf(row: BadInput): Promise<CheckFailure[]> {
    const merge = (base: Record<string, unknown>) => {
        const news: Record<string, unknown> = { ...base, ...row.input };
        for (const [k, v] of Object.entries(row.input)) if (v === undefined) delete news[k];
        return news;
    };
    switch (row.route) {
        case "InstanceImage":
            return (await instanceImageProvider.check!({}, merge(VALID_INSTANCE_IMAGE))).failures ?? [];
        case "ImageCopy":
            return (await imageCopyProvider.check!({}, merge(VALID_IMAGE_COPY))).failures ?? [];
        case "Builder":
            return (await builderProvider.check!({}, merge(VALID_BUILDER))).failures ?? [];
    }
}

/** The failure's property is `property`, or one of its keys / elements (`tags.aws:x`, `list[0]`). */
function names(failure: CheckFailure, property: string): boolean {
    return failure.property === property || failure.property.startsWith(`${property}.`) || failure.property.startsWith(`${property}[`);
}

describe("unit: bad inputs are refused by check, naming the property", function () {
    before(() => setConfiguredRegion(undefined));

    it("the valid base inputs pass (so each row below fails for its own reason)", async () => {
        assert.deepEqual((await instanceImageProvider.check!({}, { ...VALID_INSTANCE_IMAGE })).failures, []);
        assert.deepEqual((await imageCopyProvider.check!({}, { ...VALID_IMAGE_COPY })).failures, []);
        assert.deepEqual((await builderProvider.check!({}, { ...VALID_BUILDER })).failures, []);
    });

    afterEach(function () {
        const test = this.currentTest!;
        if (test.title.startsWith("refuses ") && (test.state === "passed" || test.state === "failed")) {
            recordBadInput(`check: ${test.title}`, test.state === "passed");
        }
    });

    after(() => {
        const { refused, total } = badInputTally("check: ");
        console.log(`bad inputs refused: ${refused}/${total}`);
    });

    for (const row of ROWS) {
        it(`refuses ${row.what} (${row.route} ${row.property}: ${JSON.stringify(row.input).slice(0, 60)})`, async () => {
            const failures = await failuresOf(row);
            const shown = JSON.stringify(failures, null, 1);
            assert.ok(failures.length > 0, `accepted: ${JSON.stringify(row.input)}`);
            const mine = failures.filter((f) => names(f, row.property));
            assert.ok(mine.length > 0, `no failure names ${row.property}: ${shown}`);
            const matches = (f: CheckFailure) => (typeof row.says === "string" ? f.reason.includes(row.says) : row.says.test(f.reason));
            assert.ok(mine.some(matches), `no failure of ${row.property} says ${row.says}: ${shown}`);
            // Nothing else is blamed: the base inputs are valid.
            const top = row.property.split(/[.[]/)[0];
            assert.deepEqual(failures.filter((f) => !names(f, top)), [], "only the bad property is refused");
        });
    }
});
