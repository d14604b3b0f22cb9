// ImageCopy check (validation, defaults, derived names), diff, and what Pulumi stores in state.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { copyClientToken } from "../../../providers/core/naming";
import { setConfiguredRegion } from "../../../providers/core/region";
import { ec2Client } from "../../../providers/ec2/client";
import { WaitFailedError } from "../../../providers/ec2/waiter";
import { ImageCopyOutputs } from "../../../providers/lifecycle/image-copy";
import { PartialCreateError } from "../../../providers/lifecycle/partial";
import { providerShim } from "../../../providers/resources/shim";
import { FakeCall, FakeEc2, fromTags, Tags } from "../../support/fake-ec2";
import { awsError, FakeClock, testProviders } from "../../support/fakes";
import { A, B, copyEc2, inputsWith, KEY_ARN, MARKERS, NAME, REGION, SOURCE, SOURCE_IMAGE, SOURCE_NAME, SOURCE_REGION, URN, withoutProvider, world } from "./fixture";

let provider: pulumi.dynamic.ResourceProvider;
const UNKNOWN = pulumi.runtime.unknownValue;

describe("ImageCopy provider: check", function () {
    let savedEnv: Record<string, string | undefined>;
    let ec2: FakeEc2;
    let undo: () => void;

    beforeEach(function () {
        savedEnv = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
        setConfiguredRegion(undefined);
        ({ ec2, provider, restore: undo } = world());
    });
    afterEach(function () {
        undo();
        for (const [k, v] of Object.entries(savedEnv)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    });

    const valid = (over: Record<string, unknown> = {}) => ({ sourceImageId: SOURCE, sourceRegion: SOURCE_REGION, region: REGION, resourceUrn: URN, ...over });
    async function check(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
        const result = await provider.check!(olds, news);
        return { inputs: result.inputs as Record<string, any>, failures: result.failures ?? [] };
    }

    const good: Array<[string, Record<string, unknown>]> = [
        ["the minimum", {}],
        ["everything", {
            name: "web (copy) [eu]", description: "d".repeat(255), encrypted: true, kmsKeyId: KEY_ARN, copyImageTags: true,
            tags: { team: "platform" }, snapshotTags: { backup: "no" }, snapshotCopyCompletionDurationMinutes: 2880, imageTimeoutMinutes: 120,
            launchAccounts: [A], shareSnapshots: true, deregistrationProtection: true,
        }],
        ["a key ID", { kmsKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" }],
        ["a multi-Region key ID", { kmsKeyId: `mrk-${"0123456789abcdef".repeat(2)}` }],
        ["an alias", { kmsKeyId: "alias/golden-ami" }],
        ["the AWS managed EBS alias", { encrypted: true, kmsKeyId: "alias/aws/ebs" }],
        ["an alias ARN of the region", { kmsKeyId: `arn:aws:kms:${REGION}:123456789012:alias/golden` }],
        ["a completion duration of 15 minutes", { snapshotCopyCompletionDurationMinutes: 15 }],
        ["a same-region copy under another name", { region: SOURCE_REGION, name: "web-golden-again" }],
        ["a same-region copy with a derived name", { region: SOURCE_REGION }],
    ];
    for (const [what, over] of good) {
        it(`accepts ${what}`, async function () {
            const { failures } = await check(valid(over));
            assert.deepEqual(failures, []);
        });
    }

    const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
        ["a missing sourceImageId", { sourceImageId: undefined }, "sourceImageId", /sourceImageId is required/],
        ["a malformed sourceImageId", { sourceImageId: "ami-12" }, "sourceImageId", /"ami-12" is not a valid image ID/],
        ["an instance ID as sourceImageId", { sourceImageId: "i-0123456789abcdef0" }, "sourceImageId", /not a valid image ID/],
        ["a snapshot ID as sourceImageId", { sourceImageId: "snap-0123456789abcdef0" }, "sourceImageId", /not a valid image ID/],
        ["an availability zone as region", { region: "eu-west-1a" }, "region", /availability zone, not a region; use "eu-west-1"/],
        ["an availability zone as sourceRegion", { sourceRegion: "us-east-1c" }, "sourceRegion", /use "us-east-1"/],
        ["a Wavelength Zone as region", { region: "us-east-1-wl1-bos-wlz-1" }, "region", /is a zone \(Local or Wavelength Zone\), not a region; use "us-east-1"/],
        ["a region that is no region at all", { region: "ireland" }, "region", /not an AWS region name/],
        ["a KMS key ARN of another region", { encrypted: true, kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }, "kmsKeyId", /is in us-east-1, but the copy is made in eu-west-1; KMS keys are regional/],
        ["a KMS alias ARN of another region", { kmsKeyId: "arn:aws:kms:eu-west-2:123456789012:alias/golden" }, "kmsKeyId", /is in eu-west-2/],
        ["a KMS key that is no key", { kmsKeyId: "my-key" }, "kmsKeyId", /is not a KMS key ID, key ARN, alias or alias ARN/],
        ["a KMS key ARN of another service", { kmsKeyId: "arn:aws:iam::123456789012:role/x" }, "kmsKeyId", /is not a KMS key ID/],
        ["a KMS key ARN with a bad key ID", { kmsKeyId: `arn:aws:kms:${REGION}:123456789012:key/nope` }, "kmsKeyId", /not a valid KMS key or alias ARN/],
        ["encrypted false with a kmsKeyId", { encrypted: false, kmsKeyId: KEY_ARN }, "kmsKeyId", /encrypted is false; set encrypted to true/],
        ["encrypted as a string", { encrypted: "yes" }, "encrypted", /must be true or false/],
        ["a completion duration of 20 minutes", { snapshotCopyCompletionDurationMinutes: 20 }, "snapshotCopyCompletionDurationMinutes", /from 15 to 2880 \(48 hours\) in steps of 15, not 20/],
        ["a completion duration of 0", { snapshotCopyCompletionDurationMinutes: 0 }, "snapshotCopyCompletionDurationMinutes", /from 15 to 2880/],
        ["a completion duration over 48 hours", { snapshotCopyCompletionDurationMinutes: 2895 }, "snapshotCopyCompletionDurationMinutes", /not 2895/],
        ["a completion duration as a string", { snapshotCopyCompletionDurationMinutes: "15" }, "snapshotCopyCompletionDurationMinutes", /whole number/],
        ["a fractional completion duration", { snapshotCopyCompletionDurationMinutes: 15.5 }, "snapshotCopyCompletionDurationMinutes", /whole number/],
        ["a same-region copy under the source's own name", { region: SOURCE_REGION, name: SOURCE_NAME }, "name", /is the name of the source image ami-0123456789abcdef0; a copy into its own region \(us-east-1\) needs another name/],
        ["a bad AMI name", { name: "web!copy" }, "name", /not a valid AMI name/],
        ["a description too long", { description: "d".repeat(256) }, "description", /the limit is 255/],
        ["copyImageTags as a string", { copyImageTags: "yes" }, "copyImageTags", /must be true or false/],
        ["a tag key starting with aws:", { tags: { "aws:x": "y" } }, "tags.aws:x", /reserved by AWS/],
        ["a snapshot tag key starting with golden-ami:", { snapshotTags: { "golden-ami:source-image": "x" } }, "snapshotTags.golden-ami:source-image", /marker tags/],
        ["imageTimeoutMinutes 0", { imageTimeoutMinutes: 0 }, "imageTimeoutMinutes", /greater than 0/],
        ["a bad launch account", { launchAccounts: ["12345"] }, "launchAccounts", /is not a 12-digit AWS account ID/],
        ["deprecateAt in the past", { deprecateAt: "2020-01-01T00:00:00Z" }, "deprecateAt", /not in the future/],
        ["shareSnapshots without accounts", { shareSnapshots: true }, "shareSnapshots", /launchAccounts, which is empty/],
    ];
    for (const [what, over, property, fragment] of bad) {
        it(`refuses ${what} (${property})`, async function () {
            const { failures } = await check(valid(over));
            const hit = failures.find((f) => f.property === property);
            assert.ok(hit, `no failure for ${property} in ${JSON.stringify(failures)}`);
            assert.match(hit.reason, fragment);
            assert.deepEqual(failures.filter((f) => f.property !== property), [], "only the bad property is blamed");
        });
    }

    it("no region anywhere: failures on region and sourceRegion", async function () {
        delete process.env.AWS_REGION;
        delete process.env.AWS_DEFAULT_REGION;
        const { failures } = await check(valid({ region: undefined, sourceRegion: undefined }));
        assert.ok(failures.some((f) => f.property === "region" && /no region/.test(f.reason)), JSON.stringify(failures));
        assert.ok(failures.some((f) => f.property === "sourceRegion" && /no region/.test(f.reason)), JSON.stringify(failures));
    });

    it("defaults: both regions from AWS_REGION, encrypted false, copyImageTags false, imageTimeoutMinutes 60; a key implies encrypted", async function () {
        process.env.AWS_REGION = "eu-central-1";
        delete process.env.AWS_DEFAULT_REGION;
        const { inputs, failures } = await check({ sourceImageId: SOURCE, resourceUrn: URN });
        assert.deepEqual(failures, []);
        assert.equal(inputs.region, "eu-central-1");
        assert.equal(inputs.sourceRegion, "eu-central-1");
        assert.equal(inputs.encrypted, false);
        assert.equal(inputs.copyImageTags, false);
        assert.equal(inputs.imageTimeoutMinutes, 60);
        assert.equal((await check(valid({ kmsKeyId: KEY_ARN }))).inputs.encrypted, true);
    });

    it("the region check names the property and says what to use, for an AZ given as either region", async function () {
        const { failures } = await check(valid({ region: "eu-west-1a", sourceRegion: "us-east-1b" }));
        assert.deepEqual(failures.map((f) => f.property).sort(), ["region", "sourceRegion"]);
    });

    it("derives the name from the resource name plus 12 hex digits, stable for equal inputs", async function () {
        const a = (await check(valid())).inputs.name;
        assert.match(a, /^web-eu-[0-9a-f]{12}$/);
        assert.equal((await check(valid())).inputs.name, a);
        // What does not define the copy leaves the name alone.
        const same = [
            valid({ tags: { team: "x" } }), valid({ description: "d" }), valid({ launchAccounts: [A] }), valid({ copyImageTags: true }),
            valid({ encrypted: false }), valid({ snapshotCopyCompletionDurationMinutes: 15 }),
        ];
        for (const n of same) assert.equal((await check(n)).inputs.name, a, JSON.stringify(n));
    });

    it("the derived name changes with source image, source region, region, encryption and key", async function () {
        const base = (await check(valid())).inputs.name;
        const names = [
            (await check(valid({ sourceImageId: "ami-0fedcba9876543210" }))).inputs.name,
            (await check(valid({ sourceRegion: "us-west-2" }))).inputs.name,
            (await check(valid({ region: "eu-central-1" }))).inputs.name,
            (await check(valid({ encrypted: true }))).inputs.name,
            (await check(valid({ encrypted: true, kmsKeyId: KEY_ARN }))).inputs.name,
        ];
        assert.equal(new Set([base, ...names]).size, names.length + 1, JSON.stringify([base, ...names]));
    });

    it("a renamed resource keeps the name its copy already has", async function () {
        const first = (await check(valid())).inputs.name;
        const renamed = await check(valid({ resourceUrn: URN.replace("::web-eu", "::web-europe") }), { name: first });
        assert.equal(renamed.inputs.name, first);
    });

    it("unknown values (preview) are not failures, and leave the name to be derived later", async function () {
        const { inputs, failures } = await check({
            sourceImageId: UNKNOWN, sourceRegion: UNKNOWN, region: UNKNOWN, name: undefined, description: UNKNOWN, encrypted: UNKNOWN,
            kmsKeyId: UNKNOWN, copyImageTags: UNKNOWN, tags: { team: UNKNOWN }, snapshotTags: UNKNOWN,
            snapshotCopyCompletionDurationMinutes: UNKNOWN, imageTimeoutMinutes: UNKNOWN, launchAccounts: UNKNOWN, resourceUrn: URN,
        });
        assert.deepEqual(failures, []);
        assert.equal(inputs.name, undefined);
    });

    it("a same-region name check that cannot reach EC2 lets create judge instead of failing check", async function () {
        ec2.fail("DescribeImages", awsError("AuthFailure", "no credentials", 401));
        const { failures } = await check(valid({ region: SOURCE_REGION, name: SOURCE_NAME }));
        assert.deepEqual(failures, []);
    });
});

describe("ImageCopy provider: diff", function () {
    before(function () {
        provider = testProviders(new FakeClock()).ImageCopy;
    });
    const olds = {
        ...inputsWith({ description: "golden", launchAccounts: [A, B], deprecateAt: "2030-01-01T00:00:10Z" }),
        imageId: "ami-0c000000000000001",
        snapshotIds: ["snap-00000000000000001"],
        state: "available",
        blockDeviceMappings: [],
        complete: true,
    } as unknown as ImageCopyOutputs;
    const news = (over: Record<string, unknown> = {}) => inputsWith({ description: "golden", launchAccounts: [A, B], deprecateAt: "2030-01-01T00:00:10Z", ...over });
    const diff = (n: Record<string, unknown>) => provider.diff!(olds.imageId, olds, n);

    it("nothing changed (or only the URN, list order, a time in the same minute): no changes", async function () {
        for (const over of [{}, { resourceUrn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:ImageCopy::renamed" }, { launchAccounts: [B, A] }, { deprecateAt: "2030-01-01T00:00:20Z" }, { public: false }]) {
            const d = await diff(news(over));
            assert.equal(d.changes, false, JSON.stringify(over));
            assert.deepEqual(d.replaces, []);
        }
    });

    const replacing: Array<[string, unknown]> = [
        ["sourceImageId", "ami-0fedcba9876543210"],
        ["sourceRegion", "us-west-2"],
        ["region", "eu-central-1"],
        ["name", "web-golden-eu-2"],
        ["encrypted", true],
        ["kmsKeyId", KEY_ARN],
    ];
    for (const [key, value] of replacing) {
        it(`${key} changed: replaces [${key}]`, async function () {
            const d = await diff(news({ [key]: value }));
            assert.equal(d.changes, true);
            assert.deepEqual(d.replaces, [key]);
        });
    }

    const inPlace: Array<[string, unknown]> = [
        ["tags", { team: "data" }],
        ["snapshotTags", undefined],
        ["description", "v2"],
        ["copyImageTags", true],
        ["imageTimeoutMinutes", 90],
        ["launchAccounts", [A]],
        ["public", true],
        ["shareSnapshots", true],
        ["deprecateAt", undefined],
        ["deregistrationProtection", true],
    ];
    for (const [key, value] of inPlace) {
        it(`${key} → ${JSON.stringify(value)}: an update in place`, async function () {
            const d = await diff(news({ [key]: value }));
            assert.equal(d.changes, true);
            assert.deepEqual(d.replaces, []);
        });
    }
});

describe("ImageCopy provider: what Pulumi stores in state", function () {
    it("the serialized provider is the small shim that loads the runtime by name, with no credential or endpoint in it", async function () {
        process.env.AWS_SECRET_ACCESS_KEY_PROBE = "must-not-leak";
        try {
            const provider = providerShim("ImageCopy");
            const { text } = await pulumi.runtime.serializeFunction(() => provider);
            assert.ok(text.length < 4_000, `serialized to ${text.length} characters`);
            assert.match(text, /golden-ami\/dist\/providers\/runtime/);
            assert.match(text, /ImageCopy/);
            assert.doesNotMatch(text, /must-not-leak|AWS_ACCESS_KEY_ID|AWS_ENDPOINT_URL|client-ec2/);
        } finally {
            delete process.env.AWS_SECRET_ACCESS_KEY_PROBE;
        }
    });
});
