// The InstanceImage kind's own part (providers/lifecycle/instance-image.ts) where mutation
// testing found it untold (docs/mutation-testing.md): block device overrides normalised and
// checked entry by entry, the check messages and defaults, the provisioning timeout given,
// the after-image state on update (and never for an image handed over), state of older
// releases, and the derived name that must not change between releases.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { PartialCreateError } from "../../../providers/lifecycle/partial";
import { FakeCall, FakeEc2, FakeInstance } from "../../support/fake-ec2";
import { countByAction, FakeClock, rejection, testProviders } from "../../support/fakes";
import { EARLIER_IMAGE, INSTANCE, inputsWith, NAME, NEW_IMAGE, offlineProvider, REGION, URN, world } from "./fixture";

async function check(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
    const result = await offlineProvider().check!(olds, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, ...news });
    return { inputs: result.inputs as Record<string, any>, failures: result.failures ?? [] };
}

describe("InstanceImage kind: block device overrides", function () {
    const devices = (list: Array<Record<string, unknown>>) => list.map((d) => d.deviceName);

    it("are kept sorted by device name, as plain copies, so the same overrides in any order are the same image", async function () {
        const given = [
            { deviceName: "/dev/sdg", volumeSize: 20 },
            { deviceName: "/dev/xvda", volumeSize: 30, volumeType: "gp3" },
            { deviceName: "/dev/sdf", noDevice: true },
        ];
        const { inputs, failures } = await check({ blockDeviceMappings: given });
        assert.deepEqual(failures, []);
        assert.deepEqual(devices(inputs.blockDeviceMappings), ["/dev/sdf", "/dev/sdg", "/dev/xvda"]);
        assert.deepEqual(inputs.blockDeviceMappings[2], { deviceName: "/dev/xvda", volumeSize: 30, volumeType: "gp3" });
        assert.deepEqual(devices(given), ["/dev/sdg", "/dev/xvda", "/dev/sdf"], "the caller's list is not reordered");
        const reordered = await check({ blockDeviceMappings: [given[2], given[0], given[1]] });
        assert.equal(reordered.inputs.name, inputs.name);
    });

    it("an empty list is no overrides", async function () {
        const { inputs } = await check({ blockDeviceMappings: [] });
        assert.equal(inputs.blockDeviceMappings, undefined);
        assert.equal(inputs.name, (await check({})).inputs.name);
    });

    const accepted = ["/dev/sdf", "/dev/xvda", "xvdb", "xvdba"];
    for (const deviceName of accepted) {
        it(`accepts the device name ${deviceName}`, async function () {
            assert.deepEqual((await check({ blockDeviceMappings: [{ deviceName, volumeSize: 8 }] })).failures, []);
        });
    }
    const refused = ["foo/dev/sdf", "/dev/sdf-1", "myxvdb", "xvdb1", "xvd"];
    for (const deviceName of refused) {
        it(`refuses the device name ${JSON.stringify(deviceName)}, naming the entry`, async function () {
            const { failures } = await check({ blockDeviceMappings: [{ deviceName, volumeSize: 8 }] });
            assert.deepEqual(failures, [{
                property: "blockDeviceMappings[0].deviceName",
                reason: `blockDeviceMappings[0].deviceName: "${deviceName}" is not a device name like /dev/sdf or /dev/xvda`,
            }]);
        });
    }

    it("an entry without a device name: required, saying what it is", async function () {
        const { failures } = await check({ blockDeviceMappings: [{ volumeSize: 8 }] });
        assert.deepEqual(failures, [{ property: "blockDeviceMappings[0].deviceName", reason: "blockDeviceMappings[0].deviceName is required: the device name on the instance, e.g. /dev/sdf" }]);
    });

    it("a device name that is not a string: that failure alone", async function () {
        const { failures } = await check({ blockDeviceMappings: [{ deviceName: 5 }] });
        assert.deepEqual(failures, [{ property: "blockDeviceMappings[0].deviceName", reason: "blockDeviceMappings[0].deviceName must be a string, not number" }]);
    });

    it("a null entry is refused as missing its device name, not a crash", async function () {
        const { failures } = await check({ blockDeviceMappings: [null] });
        assert.deepEqual(failures.map((f) => f.property), ["blockDeviceMappings[0].deviceName"]);
    });

    it("noDevice that is not a boolean names that field", async function () {
        const { failures } = await check({ blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: "yes" }] });
        assert.deepEqual(failures.map((f) => f.property), ["blockDeviceMappings[0].noDevice"]);
    });

    it("noDevice with a volume size: refused (the entry leaves the volume out)", async function () {
        const { failures } = await check({ blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true, volumeSize: 8 }] });
        assert.deepEqual(failures, [{ property: "blockDeviceMappings[0]", reason: "blockDeviceMappings[0]: a noDevice entry leaves the volume out; remove volumeSize/volumeType from it" }]);
    });

    it("noDevice with a volume type: refused too", async function () {
        const { failures } = await check({ blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true, volumeType: "gp3" }] });
        assert.deepEqual(failures.map((f) => f.property), ["blockDeviceMappings[0]"]);
    });
});

describe("InstanceImage kind: check", function () {
    it("a missing instanceId says what it is", async function () {
        const { failures } = await check({ instanceId: undefined });
        assert.deepEqual(failures, [{ property: "instanceId", reason: "instanceId is required: the ID of the instance to image (i-...)" }]);
    });

    it("bad waitForBuilder, provisioningTimeoutMinutes and stopTimeoutMinutes are named, the timeouts in minutes", async function () {
        const { failures } = await check({ waitForBuilder: "ready", provisioningTimeoutMinutes: 0, stopTimeoutMinutes: -1 });
        assert.deepEqual(failures.map((f) => f.property), ["waitForBuilder", "provisioningTimeoutMinutes", "stopTimeoutMinutes"]);
        assert.equal(failures[1].reason, "provisioningTimeoutMinutes must be a number of minutes greater than 0, not 0");
        assert.equal(failures[2].reason, "stopTimeoutMinutes must be a number of minutes greater than 0, not -1");
    });

    it("defaults: waitForBuilder none, provisioningTimeoutMinutes 30; given values are kept", async function () {
        assert.equal((await check({})).inputs.waitForBuilder, "none");
        assert.equal((await check({})).inputs.provisioningTimeoutMinutes, 30);
        const given = (await check({ waitForBuilder: "stopped", provisioningTimeoutMinutes: 5 })).inputs;
        assert.equal(given.waitForBuilder, "stopped");
        assert.equal(given.provisioningTimeoutMinutes, 5);
    });

    it("the derived name of given inputs is the one earlier releases derived (a change would replace every image)", async function () {
        // Pinned on purpose: the name is the image's identity across releases, not an implementation detail.
        assert.equal((await check({})).inputs.name, DERIVED_NAME);
    });
});
/** `check({})`'s derived name (resource "web", INSTANCE, REGION, no overrides, stopBeforeImage true), as golden-ami 0.1.0 derives it. */
const DERIVED_NAME = "web-9cabe04cd466";

describe("InstanceImage kind: create, update and state", function () {
    let ec2: FakeEc2;
    let builder: FakeInstance;
    let calls: FakeCall[];
    let provider: pulumi.dynamic.ResourceProvider;
    let restore: () => void;

    beforeEach(function () {
        ({ ec2, builder, calls, provider, restore } = world());
    });
    afterEach(function () {
        restore();
    });

    it("block device overrides reach CreateImage as EC2's mappings: NoDevice for a left-out volume, Ebs for the rest", async function () {
        await provider.create(inputsWith({
            blockDeviceMappings: [
                { deviceName: "/dev/sdf", noDevice: true },
                { deviceName: "/dev/xvda", volumeSize: 30, volumeType: "gp3", iops: 3000, throughput: 125, deleteOnTermination: true },
            ],
        }));
        const create = calls.find((c) => c.action === "CreateImage")!.input;
        assert.deepEqual(create.BlockDeviceMappings, [
            { DeviceName: "/dev/sdf", NoDevice: "" },
            { DeviceName: "/dev/xvda", Ebs: { VolumeSize: 30, VolumeType: "gp3", Iops: 3000, Throughput: 125, DeleteOnTermination: true } },
        ]);
    });

    it("create says on the row that it is creating the image from the instance", async function () {
        const lines: string[] = [];
        await testProviders(new FakeClock(), (l) => lines.push(l)).InstanceImage.create(inputsWith());
        assert.ok(lines.includes(`creating image ${NAME} from instance ${INSTANCE}`), lines.join(" | "));
    });

    it("waitForBuilder with provisioningTimeoutMinutes given: times out after those minutes, not the default", async function () {
        builder.states = ["running"];
        const err = await rejection(provider.create(inputsWith({ waitForBuilder: "stopped", provisioningTimeoutMinutes: 1 })));
        assert.match(err.message, /was not ready \(powered off\) within 60 s/);
    });

    it("a foreign image of the name: the message says golden-ami did not make it from this instance", async function () {
        ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: {} });
        const err = await rejection(provider.create(inputsWith()));
        assert.match(err.message, new RegExp(`golden-ami did not make it from ${INSTANCE}`));
    });

    it("a pending image kept in state names its source instance", async function () {
        ec2.newImageStates = ["pending"];
        ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
        const err = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 1 })));
        assert.ok(err instanceof PartialCreateError, String(err));
        assert.equal(err.properties.sourceInstanceId, INSTANCE);
        assert.equal(err.name, "PartialCreateError", "named in logs and stack traces as what it is");
    });

    it("a state of an older release without instanceId (only sourceInstanceId): no replacement", async function () {
        const { outs } = await provider.create(inputsWith());
        const { instanceId, ...olds } = outs;
        const diff = await provider.diff!(NEW_IMAGE, olds, inputsWith());
        assert.deepEqual(diff.replaces, []);
    });

    describe("afterImage", function () {
        it("adoptImageId with afterImage running: the builder is not started (the image is handed over)", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME });
            builder.states = ["stopped"];
            await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, afterImage: "running" }));
            assert.equal(countByAction(calls).StartInstances, undefined);
        });

        for (const [from, to] of [["stopped", "running"], ["running", "stopped"], ["stopped", "terminated"]] as const) {
            it(`adoptImageId, afterImage ${from} → ${to} on update: the instance is not touched (the image is handed over)`, async function () {
                ec2.seedImage({ id: EARLIER_IMAGE, name: NAME });
                builder.states = [from];
                const { outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, afterImage: from }));
                calls.length = 0;
                await provider.update!(EARLIER_IMAGE, outs, inputsWith({ adoptImageId: EARLIER_IMAGE, afterImage: to }) as never);
                const counts = countByAction(calls);
                assert.ok(counts.DescribeImages, "the update did look at the image");
                for (const action of ["StartInstances", "StopInstances", "TerminateInstances"]) assert.equal(counts[action], undefined, action);
            });
        }

        it("running → stopped on update stops the instance", async function () {
            const { outs } = await provider.create(inputsWith({ afterImage: "running" }));
            calls.length = 0;
            await provider.update!(NEW_IMAGE, outs, inputsWith({ afterImage: "stopped" }) as never);
            assert.equal(countByAction(calls).StopInstances, 1);
        });

        for (const state of ["terminated", "shutting-down"]) {
            it(`stopped → running on update with the instance ${state}: nothing to start, the update succeeds`, async function () {
                const { outs } = await provider.create(inputsWith());
                builder.states = [state];
                calls.length = 0;
                const { outs: after } = await provider.update!(NEW_IMAGE, outs, inputsWith({ afterImage: "running" }) as never);
                assert.equal(countByAction(calls).StartInstances, undefined);
                assert.equal(after.afterImage, "running");
            });
        }

        it("stopped → running on update with the instance gone: nothing to start, the update succeeds", async function () {
            const { outs } = await provider.create(inputsWith());
            ec2.instances.delete(INSTANCE);
            calls.length = 0;
            await provider.update!(NEW_IMAGE, outs, inputsWith({ afterImage: "running" }) as never);
            assert.equal(countByAction(calls).StartInstances, undefined);
        });

        it("a tag change leaves the instance alone: no start for afterImage running, no stop for afterImage stopped", async function () {
            const running = await provider.create(inputsWith({ afterImage: "running" }));
            calls.length = 0;
            await provider.update!(NEW_IMAGE, running.outs, inputsWith({ afterImage: "running", tags: { team: "data" } }) as never);
            assert.equal(countByAction(calls).StartInstances, undefined);
            assert.equal(countByAction(calls).StopInstances, undefined);
            // Stopped declared, but running now (started by hand): a tag change does not stop it.
            const stopped = { ...running.outs, afterImage: "stopped" };
            calls.length = 0;
            await provider.update!(NEW_IMAGE, stopped, inputsWith({ afterImage: "stopped", tags: { team: "ops" } }) as never);
            assert.equal(countByAction(calls).StopInstances, undefined);
        });
    });
});
