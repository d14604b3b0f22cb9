// InstanceImage check (validation, defaults, derived names) and diff.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { GoldenAmiError } from "../../../providers/core/errors";
import { setConfiguredRegion } from "../../../providers/core/region";
import { WaitFailedError } from "../../../providers/ec2/waiter";
import { InstanceImageOutputs } from "../../../providers/lifecycle/instance-image";
import { PartialCreateError } from "../../../providers/lifecycle/partial";
import { DEVICES, FakeCall, FakeEc2, FakeInstance, fromTags, Tags } from "../../support/fake-ec2";
import { actions, awsError, countByAction, FakeClock, inputsOf, rejection } from "../../support/fakes";
import { EARLIER_IMAGE, INSTANCE, inputsWith, MANAGED_BY, MARKERS, NAME, NEW_IMAGE, offlineProvider, OTHER_INSTANCE, REGION, SOURCE_INSTANCE, URN, world } from "./fixture";

let provider: pulumi.dynamic.ResourceProvider;

describe("InstanceImage provider: check", function () {
    before(function () {
        provider = offlineProvider();
    });
    const UNKNOWN = pulumi.runtime.unknownValue;
    const valid = (over: Record<string, unknown> = {}) => ({ instanceId: INSTANCE, region: REGION, resourceUrn: URN, ...over });
    let savedEnv: Record<string, string | undefined>;

    beforeEach(function () {
        savedEnv = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
        setConfiguredRegion(undefined);
    });
    afterEach(function () {
        for (const [k, v] of Object.entries(savedEnv)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    });

    async function check(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
        const result = await provider.check!(olds, news);
        return { inputs: result.inputs as Record<string, any>, failures: result.failures ?? [] };
    }

    it("accepts valid inputs without failures", async function () {
        const { failures } = await check(
            valid({
                name: "web (v1) [x] ./-'@_",
                description: "d".repeat(255),
                tags: { team: "platform" },
                stopBeforeImage: false,
                afterImage: "running",
                stopTimeoutMinutes: 0.5,
                imageTimeoutMinutes: 120,
                adoptImageId: "ami-12345678",
                blockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 16, volumeType: "gp3" }, { deviceName: "/dev/sdf", noDevice: true }],
            }),
        );
        assert.deepEqual(failures, []);
    });

    const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
        ["malformed instanceId", { instanceId: "i-xyz" }, "instanceId", /"i-xyz" is not a valid instance ID/],
        ["instanceId of the wrong kind", { instanceId: "ami-0123456789abcdef0" }, "instanceId", /not a valid instance ID/],
        ["missing instanceId", { instanceId: undefined }, "instanceId", /instanceId is required/],
        ["availability zone as region", { region: "us-east-1a" }, "region", /availability zone.*use "us-east-1"/],
        ["a region name in capitals", { region: "US-EAST-1" }, "region", /not an AWS region name/],
        ["not a region at all", { region: "virginia" }, "region", /not an AWS region name/],
        ["AMI name too short", { name: "ab" }, "name", /"ab" is not a valid AMI name/],
        ["AMI name with a bad character", { name: "web!golden" }, "name", /not a valid AMI name/],
        ["AMI name too long", { name: "a".repeat(129) }, "name", /not a valid AMI name/],
        ["description too long", { description: "d".repeat(256) }, "description", /256 characters long; the limit is 255/],
        ["stopTimeoutMinutes 0", { stopTimeoutMinutes: 0 }, "stopTimeoutMinutes", /greater than 0, not 0/],
        ["imageTimeoutMinutes -5", { imageTimeoutMinutes: -5 }, "imageTimeoutMinutes", /greater than 0, not -5/],
        ["imageTimeoutMinutes as a string", { imageTimeoutMinutes: "60" }, "imageTimeoutMinutes", /must be a number/],
        ["afterImage paused", { afterImage: "paused" }, "afterImage", /must be one of "stopped", "running", "terminated", not "paused"/],
        ["stopBeforeImage yes", { stopBeforeImage: "yes" }, "stopBeforeImage", /must be true or false/],
        ["adoptImageId malformed", { adoptImageId: "ami-12" }, "adoptImageId", /"ami-12" is not a valid image ID/],
        ["blockDeviceMappings not a list", { blockDeviceMappings: { deviceName: "/dev/sdf" } }, "blockDeviceMappings", /must be a list/],
        ["a bad deviceName", { blockDeviceMappings: [{ deviceName: "sdf" }] }, "blockDeviceMappings[0].deviceName", /"sdf" is not a device name/],
        ["a missing deviceName", { blockDeviceMappings: [{ volumeSize: 8 }] }, "blockDeviceMappings[0].deviceName", /is required/],
        [
            "a duplicate deviceName",
            { blockDeviceMappings: [{ deviceName: "/dev/sdf" }, { deviceName: "/dev/sdf", volumeSize: 4 }] },
            "blockDeviceMappings[1].deviceName",
            /"\/dev\/sdf" is listed twice/,
        ],
        ["volumeSize 0", { blockDeviceMappings: [{ deviceName: "/dev/sdf", volumeSize: 0 }] }, "blockDeviceMappings[0].volumeSize", /whole number from 1 to 65536, not 0/],
        ["a bad volumeType", { blockDeviceMappings: [{ deviceName: "/dev/sdf", volumeType: "gp9" }] }, "blockDeviceMappings[0].volumeType", /must be one of/],
        ["noDevice with volumeSize", { blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true, volumeSize: 8 }] }, "blockDeviceMappings[0]", /noDevice/],
        ["a tag key starting with aws:", { tags: { "aws:cloudformation:stack": "x" } }, "tags.aws:cloudformation:stack", /reserved by AWS/],
        ["a snapshot tag key starting with AWS:", { snapshotTags: { "AWS:x": "y" } }, "snapshotTags.AWS:x", /reserved by AWS/],
        ["a tag value that is not a string", { tags: { team: 7 } }, "tags.team", /must be a string/],
        ["a tag key starting with golden-ami:", { tags: { "golden-ami:owner": "me" } }, "tags.golden-ami:owner", /golden-ami's own marker tags/],
    ];
    for (const [what, over, property, fragment] of bad) {
        it(`rejects ${what} (${property})`, async function () {
            const { failures } = await check(valid(over));
            const hit = failures.find((f) => f.property === property);
            assert.ok(hit, `no failure for ${property} in ${JSON.stringify(failures)}`);
            assert.match(hit.reason, fragment);
        });
    }

    it("no region anywhere: a failure on region", async function () {
        delete process.env.AWS_REGION;
        delete process.env.AWS_DEFAULT_REGION;
        const { failures } = await check(valid({ region: undefined }));
        assert.ok(failures.some((f) => f.property === "region" && /no region/.test(f.reason)), JSON.stringify(failures));
    });

    it("defaults: region from AWS_REGION, stopBeforeImage true, afterImage stopped, timeouts 10 and 60", async function () {
        process.env.AWS_REGION = "eu-west-1";
        delete process.env.AWS_DEFAULT_REGION;
        const { inputs, failures } = await check(valid({ region: undefined }));
        assert.deepEqual(failures, []);
        assert.equal(inputs.region, "eu-west-1");
        assert.equal(inputs.stopBeforeImage, true);
        assert.equal(inputs.afterImage, "stopped");
        assert.equal(inputs.stopTimeoutMinutes, 10);
        assert.equal(inputs.imageTimeoutMinutes, 60);
        assert.equal(inputs.instanceId, INSTANCE);
    });

    it("keeps explicit values over the defaults", async function () {
        process.env.AWS_REGION = "eu-west-1";
        const { inputs } = await check(valid({ region: "us-west-2", stopBeforeImage: false, afterImage: "running", stopTimeoutMinutes: 3, imageTimeoutMinutes: 90 }));
        assert.equal(inputs.region, "us-west-2");
        assert.equal(inputs.stopBeforeImage, false);
        assert.equal(inputs.afterImage, "running");
        assert.equal(inputs.stopTimeoutMinutes, 3);
        assert.equal(inputs.imageTimeoutMinutes, 90);
    });

    it("derives the name from the resource name plus 12 hex digits, stable for equal inputs", async function () {
        const a = (await check(valid())).inputs.name;
        const b = (await check(valid())).inputs.name;
        assert.match(a, /^web-[0-9a-f]{12}$/);
        assert.equal(a, b);
        // Inputs that do not define the image leave the name alone.
        assert.equal((await check(valid({ tags: { team: "x" }, afterImage: "running" }))).inputs.name, a);
        // An explicit default equals the default.
        assert.equal((await check(valid({ stopBeforeImage: true }))).inputs.name, a);
    });

    it("a derived name changes when what defines the image changes", async function () {
        const base = (await check(valid())).inputs.name;
        const names = [
            (await check(valid({ instanceId: OTHER_INSTANCE }))).inputs.name,
            (await check(valid({ region: "us-west-2" }))).inputs.name,
            (await check(valid({ stopBeforeImage: false }))).inputs.name,
            (await check(valid({ blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true }] }))).inputs.name,
        ];
        for (const n of names) assert.match(n, /^web-[0-9a-f]{12}$/);
        assert.equal(new Set([base, ...names]).size, names.length + 1, JSON.stringify([base, ...names]));
    });

    it("an explicit name is kept as given", async function () {
        const { inputs } = await check(valid({ name: NAME }));
        assert.equal(inputs.name, NAME);
    });

    it("unknown values (preview) are not reported as failures", async function () {
        const { inputs, failures } = await check({
            instanceId: UNKNOWN,
            region: UNKNOWN,
            name: UNKNOWN,
            description: UNKNOWN,
            tags: { team: UNKNOWN },
            snapshotTags: UNKNOWN,
            stopBeforeImage: UNKNOWN,
            afterImage: UNKNOWN,
            stopTimeoutMinutes: UNKNOWN,
            imageTimeoutMinutes: UNKNOWN,
            adoptImageId: UNKNOWN,
            blockDeviceMappings: UNKNOWN,
            resourceUrn: URN,
        });
        assert.deepEqual(failures, []);
        assert.equal(inputs.instanceId, UNKNOWN);
    });

    it("an unknown instanceId: no failure and no derived name yet", async function () {
        const { inputs, failures } = await check(valid({ instanceId: UNKNOWN }));
        assert.deepEqual(failures, []);
        assert.equal(inputs.name, undefined);
    });
});

describe("InstanceImage provider: diff", function () {
    before(function () {
        provider = offlineProvider();
    });
    const olds = {
        __provider: "x",
        instanceId: INSTANCE,
        region: REGION,
        name: NAME,
        description: "golden",
        tags: { team: "platform" },
        snapshotTags: { backup: "daily" },
        stopBeforeImage: true,
        afterImage: "stopped",
        stopTimeoutMinutes: 10,
        imageTimeoutMinutes: 60,
        resourceUrn: URN,
        imageId: NEW_IMAGE,
        sourceInstanceId: INSTANCE,
        snapshotIds: ["snap-00000000000000001"],
        state: "available",
        blockDeviceMappings: [{ deviceName: "/dev/xvda", snapshotId: "snap-00000000000000001", volumeSize: 8 }],
        requestedBlockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 8 }],
    } as unknown as InstanceImageOutputs;
    const news = (over: Record<string, unknown> = {}) => ({
        __provider: "x",
        instanceId: INSTANCE,
        region: REGION,
        name: NAME,
        description: "golden",
        tags: { team: "platform" },
        snapshotTags: { backup: "daily" },
        blockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 8 }],
        stopBeforeImage: true,
        afterImage: "stopped",
        stopTimeoutMinutes: 10,
        imageTimeoutMinutes: 60,
        resourceUrn: URN,
        ...over,
    });
    const diff = (n: Record<string, unknown>, o: InstanceImageOutputs = olds) => provider.diff!(NEW_IMAGE, o, n);

    it("nothing changed: no changes", async function () {
        const d = await diff(news());
        assert.equal(d.changes, false);
        assert.deepEqual(d.replaces, []);
    });

    it("only the resource URN changed (a renamed or re-parented resource): no changes", async function () {
        const d = await diff(news({ resourceUrn: "urn:pulumi:s::p::other$pulumi-nodejs:dynamic/golden-ami:InstanceImage::web2" }));
        assert.equal(d.changes, false);
        assert.deepEqual(d.replaces, []);
    });

    const replacing: Array<[string, unknown]> = [
        ["instanceId", OTHER_INSTANCE],
        ["region", "us-west-2"],
        ["name", "web-golden-2"],
        ["blockDeviceMappings", [{ deviceName: "/dev/xvda", volumeSize: 16 }]],
        ["stopBeforeImage", false],
    ];
    for (const [key, value] of replacing) {
        it(`${key} changed: replaces contains ${key}`, async function () {
            const d = await diff(news({ [key]: value }));
            assert.equal(d.changes, true);
            assert.ok(d.replaces?.includes(key), JSON.stringify(d.replaces));
            assert.deepEqual(d.replaces, [key]);
        });
    }

    it("blockDeviceMappings removed: replaces", async function () {
        const d = await diff(news({ blockDeviceMappings: undefined }));
        assert.deepEqual(d.replaces, ["blockDeviceMappings"]);
    });

    const inPlace: Array<[string, unknown]> = [
        ["tags", { team: "data" }],
        ["tags", undefined],
        ["snapshotTags", { backup: "weekly" }],
        ["description", "golden v2"],
        ["afterImage", "running"],
        ["imageTimeoutMinutes", 90],
        // The lifecycle's own in-place keys (they steer retention, destroy and publishing only).
        ["retention", { keep: 1 }],
        ["onDestroy", "retain"],
        ["ssmParameterName", "/golden/web"],
        ["awsProvider", { region: "us-east-1", profile: "other" }],
    ];
    for (const [key, value] of inPlace) {
        it(`${key} → ${JSON.stringify(value)}: changes, no replace`, async function () {
            const d = await diff(news({ [key]: value }));
            assert.equal(d.changes, true);
            assert.deepEqual(d.replaces, []);
        });
    }

    it("adoptImageId of another image: replaces", async function () {
        const d = await diff(news({ adoptImageId: EARLIER_IMAGE }));
        assert.ok(d.replaces?.includes("adoptImageId"));
    });

    describe("against the outputs of a real create", function () {
        let restore: () => void;
        beforeEach(function () {
            ({ provider, restore } = world());
        });
        afterEach(function () {
            restore();
        });

        it("the same inputs again: no changes", async function () {
            const inputs = inputsWith({ resourceUrn: URN, blockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 8 }] });
            const { outs } = await provider.create(inputs);
            const d = await provider.diff!(NEW_IMAGE, outs, inputs);
            assert.equal(d.changes, false, JSON.stringify(d));
            const changed = await provider.diff!(NEW_IMAGE, outs, { ...inputs, tags: { team: "data" } });
            assert.equal(changed.changes, true);
            assert.deepEqual(changed.replaces, []);
        });
    });
});
