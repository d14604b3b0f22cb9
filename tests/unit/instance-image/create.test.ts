// InstanceImage create: stop, CreateImage, wait for the image and every snapshot; adopt, refuse, clean up.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { GoldenAmiError } from "../../../providers/core/errors";
import { setConfiguredRegion } from "../../../providers/core/region";
import { WaitFailedError } from "../../../providers/ec2/waiter";
import { InstanceImageOutputs } from "../../../providers/lifecycle/instance-image";
import { PartialCreateError } from "../../../providers/lifecycle/partial";
import { DEVICES, FakeCall, FakeEc2, FakeInstance, fromTags, Tags } from "../../support/fake-ec2";
import { actions, awsError, countByAction, FakeClock, inputsOf, rejection } from "../../support/fakes";
import { EARLIER_IMAGE, INSTANCE, inputsWith, MANAGED_BY, MARKERS, NAME, NEW_IMAGE, offlineProvider, OTHER_INSTANCE, REGION, SOURCE_INSTANCE, URN, world, LINEAGE, withoutLineage } from "./fixture";

let provider: pulumi.dynamic.ResourceProvider;

describe("InstanceImage provider", function () {
    let ec2: FakeEc2;
    let builder: FakeInstance;
    let calls: FakeCall[];
    let clock: FakeClock;
    let restore: () => void;

    beforeEach(function () {
        ({ ec2, builder, calls, clock, provider, restore } = world());
    });
    afterEach(function () {
        restore();
    });

    /** A finished create: its outputs, with the call log cleared afterwards. */
    async function created(over: Record<string, unknown> = {}): Promise<InstanceImageOutputs> {
        const { outs } = await provider.create(inputsWith(over));
        calls.length = 0;
        return outs as InstanceImageOutputs;
    }

    describe("create", function () {
        it("stops a running instance, waits for stopped, creates the image with markers, waits for image and snapshots", async function () {
            const start = clock.now();
            const { id, outs } = await provider.create(inputsWith());

            const counts = countByAction(calls);
            assert.equal(counts.StopInstances, 1);
            assert.deepEqual(inputsOf(calls, "StopInstances")[0], { InstanceIds: [INSTANCE] });
            assert.equal(counts.CreateImage, 1);
            // It waited through stopping: the image was made from a stopped instance.
            assert.ok(builder.served.includes("stopping"), builder.served.join());
            assert.equal(ec2.instanceStateAtCreateImage, "stopped");
            assert.ok(actions(calls).indexOf("StopInstances") < actions(calls).indexOf("CreateImage"));

            const create = inputsOf(calls, "CreateImage")[0];
            assert.equal(create.InstanceId, INSTANCE);
            assert.equal(create.Name, NAME);
            assert.equal(create.NoReboot, false);
            const tagSpec = (type: string) => fromTags(create.TagSpecifications.find((s: { ResourceType: string }) => s.ResourceType === type)?.Tags);
            assert.deepEqual(withoutLineage(tagSpec("image")), { team: "platform", ...MARKERS });
            assert.deepEqual(withoutLineage(tagSpec("snapshot")), { backup: "daily", ...MARKERS });
            for (const type of ["image", "snapshot"]) {
                assert.equal(tagSpec(type)["golden-ami:generation"], "1", "the first generation of its lineage");
                assert.equal(tagSpec(type)["golden-ami:lineage"], LINEAGE);
                assert.match(tagSpec(type)["golden-ami:recipe-hash"], /^[0-9a-f]{16}$/);
            }

            // It waited for the image (pending → available) and every snapshot (rising progress → completed).
            const image = ec2.images.get(NEW_IMAGE)!;
            assert.deepEqual(image.served.slice(0, 4), ["pending", "pending", "pending", "available"]);
            for (const snapshotId of image.snapshotIds) {
                assert.deepEqual(ec2.snapshots.get(snapshotId)!.served.slice(0, 4), ["pending 10%", "pending 40%", "pending 70%", "completed 100%"]);
            }
            assert.ok(clock.now() > start, "virtual time passed while waiting");

            assert.equal(id, NEW_IMAGE);
            assert.equal(outs.imageId, NEW_IMAGE);
            assert.deepEqual(outs.snapshotIds, image.snapshotIds);
            assert.equal(outs.snapshotIds.length, 2);
            assert.equal(outs.state, "available");
            assert.equal(outs.sourceInstanceId, INSTANCE);
            assert.equal(outs.name, NAME);
            assert.equal(outs.region, REGION);
            assert.deepEqual(outs.tags, { team: "platform" });
            assert.deepEqual(outs.snapshotTags, { backup: "daily" });
            assert.equal(outs.__provider, "x");
            assert.deepEqual(
                outs.blockDeviceMappings.map((m: { deviceName: string; snapshotId: string }) => [m.deviceName, m.snapshotId]),
                DEVICES.map((d, i) => [d, image.snapshotIds[i]]),
            );
            // The instance stays stopped (afterImage "stopped"): nothing started it again.
            assert.equal(counts.StartInstances, undefined);
        });

        it("an image available before its snapshots completed: keeps waiting until every snapshot is completed", async function () {
            ec2.newImageStates = ["available"];
            ec2.newSnapshotSteps = [
                { state: "pending", progress: "20%" },
                { state: "pending", progress: "45%" },
                { state: "pending", progress: "80%" },
                { state: "pending", progress: "95%" },
                { state: "completed", progress: "100%" },
            ];
            const { outs } = await provider.create(inputsWith());
            const image = ec2.images.get(NEW_IMAGE)!;
            for (const s of image.snapshotIds) {
                assert.deepEqual(ec2.snapshots.get(s)!.served.slice(0, 5), ["pending 20%", "pending 45%", "pending 80%", "pending 95%", "completed 100%"]);
            }
            assert.equal(image.served[0], "available", "the first look already saw the image available");
            assert.equal(outs.state, "available");
        });

        it("a pending instance: waits until running, then stops it", async function () {
            builder.states = ["pending", "pending", "pending", "running"];
            await provider.create(inputsWith());
            assert.equal(countByAction(calls).StopInstances, 1);
            const served = builder.served;
            assert.ok(served.indexOf("running") > served.indexOf("pending"), served.join());
            assert.equal(ec2.instanceStateAtCreateImage, "stopped");
        });

        it("an instance already stopping: no StopInstances, waits for stopped", async function () {
            builder.states = ["stopping", "stopping", "stopping", "stopped"];
            await provider.create(inputsWith());
            const counts = countByAction(calls);
            assert.equal(counts.StopInstances, undefined);
            assert.equal(counts.CreateImage, 1);
            assert.equal(ec2.instanceStateAtCreateImage, "stopped");
        });

        it("an instance already stopped: no StopInstances", async function () {
            builder.states = ["stopped"];
            const { outs } = await provider.create(inputsWith());
            assert.equal(countByAction(calls).StopInstances, undefined);
            assert.equal(inputsOf(calls, "CreateImage")[0].NoReboot, false);
            assert.equal(outs.state, "available");
        });

        it("stopBeforeImage false: no StopInstances, CreateImage with NoReboot", async function () {
            const { outs } = await provider.create(inputsWith({ stopBeforeImage: false }));
            assert.equal(countByAction(calls).StopInstances, undefined);
            assert.equal(inputsOf(calls, "CreateImage")[0].NoReboot, true);
            assert.equal(ec2.instanceStateAtCreateImage, "running");
            assert.equal(outs.state, "available");
        });

        for (const state of ["terminated", "shutting-down"]) {
            it(`a ${state} instance: an error naming the instance and its state, no CreateImage`, async function () {
                builder.states = [state];
                const err = await rejection(provider.create(inputsWith()));
                assert.match(err.message, new RegExp(INSTANCE));
                assert.match(err.message, new RegExp(`is ${state}`));
                assert.ok(!(err instanceof PartialCreateError));
                // Refused at the first look, not after waiting for a state it will never reach.
                assert.equal((err as GoldenAmiError).code, "IncorrectInstanceState");
                assert.deepEqual(clock.sleeps, []);
                const counts = countByAction(calls);
                assert.equal(counts.CreateImage, undefined);
                assert.equal(counts.StopInstances, undefined);
            });
        }

        it("a missing instance (InvalidInstanceID.NotFound): an error naming it, no CreateImage", async function () {
            ec2.instances.delete(INSTANCE);
            const err = await rejection(provider.create(inputsWith()));
            assert.match(err.message, new RegExp(`${INSTANCE} does not exist in ${REGION}`));
            assert.equal(countByAction(calls).CreateImage, undefined);
        });

        it("InvalidAMIID.NotFound from DescribeImages right after CreateImage is retried", async function () {
            ec2.fail("DescribeImages", awsError("InvalidAMIID.NotFound", `The image id '[${NEW_IMAGE}]' does not exist`), 2, (i) => !!i.ImageIds);
            const { outs } = await provider.create(inputsWith());
            assert.equal(ec2.faults[0].times, 0, "both NotFound answers were given");
            assert.equal(outs.state, "available");
            assert.equal(countByAction(calls).CreateImage, 1);
        });

        it("RequestLimitExceeded during the wait is retried", async function () {
            // The wait's looks (by ID or description), not the lineage lookup by tag before CreateImage.
            const waitLook = (input: Record<string, any>) => !(input.Filters ?? []).some((f: { Name: string }) => f.Name.startsWith("tag:"));
            ec2.fail("DescribeSnapshots", awsError("RequestLimitExceeded", "Request limit exceeded.", 503), 3, waitLook);
            ec2.fail("DescribeInstances", awsError("RequestLimitExceeded", "Request limit exceeded.", 503), 1, () => builder.states[0] === "stopping");
            const { outs } = await provider.create(inputsWith());
            assert.deepEqual(ec2.faults.map((f) => f.times), [0, 0]);
            assert.equal(outs.state, "available");
            assert.equal(countByAction(calls).CreateImage, 1);
        });

        it("an image that ends failed: error quoting its StateReason, image and snapshots deleted, not a partial create", async function () {
            ec2.newImageStates = ["pending", "failed"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "30%" }];
            ec2.newImageStateReason = { Code: "Client.InternalError", Message: "Client.InternalError: snapshot creation ran out of capacity" };
            const err = await rejection(provider.create(inputsWith()));
            assert.ok(!(err instanceof PartialCreateError), "a failed image is not kept in state");
            assert.ok(err instanceof WaitFailedError, String(err));
            assert.match(err.message, /snapshot creation ran out of capacity/);
            assert.match(err.message, new RegExp(NEW_IMAGE));

            const image = ec2.images.get(NEW_IMAGE)!;
            assert.deepEqual(inputsOf(calls, "DeregisterImage"), [{ ImageId: NEW_IMAGE }]);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId).sort(), [...image.snapshotIds].sort());
            assert.ok(image.deregistered);
            for (const s of image.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted, `${s} orphaned`);
        });

        it("an image still pending after imageTimeoutMinutes: PartialCreateError with the image ID and __provider", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const start = clock.now();
            const err = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 2 })));
            assert.ok(err instanceof PartialCreateError, String(err));
            assert.equal(err.id, NEW_IMAGE);
            assert.equal(err.properties.__provider, "x");
            assert.equal(err.properties.imageId, NEW_IMAGE);
            assert.equal(err.properties.state, "pending");
            assert.equal(err.properties.instanceId, INSTANCE);
            assert.equal(err.properties.region, REGION);
            assert.equal(err.reasons.length, 1);
            assert.match(err.reasons[0], /timed out after 2 min/);
            assert.match(err.reasons[0], new RegExp(NEW_IMAGE));
            assert.ok(clock.now() - start >= 2 * 60_000);
            // The image is kept (the next `pulumi up` resumes it).
            assert.equal(countByAction(calls).DeregisterImage, undefined);
        });

        it("adopts an image of the same name with this instance's markers: no StopInstances, no CreateImage", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: { ...MARKERS, team: "platform" }, states: ["pending", "pending", "available"] });
            const { id, outs } = await provider.create(inputsWith());
            const counts = countByAction(calls);
            assert.equal(counts.StopInstances, undefined);
            assert.equal(counts.CreateImage, undefined);
            assert.equal(id, EARLIER_IMAGE);
            assert.equal(outs.imageId, EARLIER_IMAGE);
            assert.equal(outs.state, "available");
            // ...and waited for it.
            assert.deepEqual(ec2.images.get(EARLIER_IMAGE)!.served.slice(0, 3), ["pending", "pending", "available"]);
        });

        const foreign: Array<[string, Tags]> = [
            ["without the marker tags", { team: "platform" }],
            ["made from another instance", { ...MARKERS, [SOURCE_INSTANCE]: OTHER_INSTANCE }],
            ["marked by another tool", { ...MARKERS, [MANAGED_BY]: "packer" }],
        ];
        for (const [what, tags] of foreign) {
            it(`an image of the same name ${what}: an error with its ID and adoptImageId, no CreateImage`, async function () {
                ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags });
                const err = await rejection(provider.create(inputsWith()));
                assert.match(err.message, new RegExp(EARLIER_IMAGE));
                assert.match(err.message, /adoptImageId/);
                assert.ok(!(err instanceof PartialCreateError));
                const counts = countByAction(calls);
                assert.equal(counts.CreateImage, undefined);
                assert.equal(counts.StopInstances, undefined);
                assert.ok(!ec2.images.get(EARLIER_IMAGE)!.deregistered, "a foreign image is never touched");
            });
        }

        it("CreateImage answers InvalidAMIName.Duplicate and the re-look finds our marked image: adopted", async function () {
            ec2.beforeMake = () => {
                if (!ec2.images.has(EARLIER_IMAGE)) ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: { ...MARKERS }, states: ["pending", "available"] });
            };
            const { id, outs } = await provider.create(inputsWith());
            assert.equal(id, EARLIER_IMAGE);
            assert.equal(outs.imageId, EARLIER_IMAGE);
            assert.equal(outs.state, "available");
            assert.equal(countByAction(calls).CreateImage, 1);
            assert.equal(ec2.images.has(NEW_IMAGE), false);
        });

        it("CreateImage answers InvalidAMIName.Duplicate for a foreign image: the adoptImageId error", async function () {
            ec2.beforeMake = () => {
                if (!ec2.images.has(EARLIER_IMAGE)) ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: {} });
            };
            const err = await rejection(provider.create(inputsWith()));
            assert.match(err.message, new RegExp(EARLIER_IMAGE));
            assert.match(err.message, /adoptImageId/);
        });

        it("afterImage running: starts the instance once the image is available and waits for running", async function () {
            const { outs } = await provider.create(inputsWith({ afterImage: "running" }));
            const order = actions(calls);
            assert.equal(countByAction(calls).StartInstances, 1);
            assert.deepEqual(inputsOf(calls, "StartInstances")[0], { InstanceIds: [INSTANCE] });
            assert.ok(order.indexOf("StopInstances") < order.indexOf("CreateImage"));
            assert.ok(order.indexOf("CreateImage") < order.indexOf("StartInstances"));
            assert.equal(ec2.imageStateAtStart, "available");
            assert.equal(builder.states[0], "running");
            assert.ok(builder.served.slice(-1)[0] === "running", builder.served.join());
            assert.equal(outs.afterImage, "running");
        });

        it("a start failure after the image is available keeps the image: a partial create with complete false, nothing deleted", async function () {
            builder.startSteps = ["pending", "shutting-down"];
            const err = await rejection(provider.create(inputsWith({ afterImage: "running" })));
            assert.ok(err instanceof PartialCreateError, String(err));
            assert.match(err.message, /shutting-down/);
            const props = err.properties as unknown as InstanceImageOutputs;
            assert.equal(props.state, "available");
            assert.equal(props.complete, false);
            assert.equal(countByAction(calls).DeregisterImage, undefined, "a good image is never deleted for a later step");
            assert.equal(countByAction(calls).DeleteSnapshot, undefined);
        });

        it("an adopted image that ends failed is not deleted (it is the user's)", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: "hand-made", states: ["failed"], stateReason: { Code: "x", Message: "broken" } });
            const err = await rejection(provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, name: "hand-made" })));
            assert.match(err.message, /broken/);
            assert.equal(countByAction(calls).DeregisterImage, undefined);
        });

        it("adoptImageId: waits for that image and brings its tags to the declared ones, without touching the instance", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: "hand-made", tags: { team: "old", stale: "1" }, states: ["pending", "available"] });
            const { id, outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, name: "hand-made" }));
            assert.equal(id, EARLIER_IMAGE);
            const counts = countByAction(calls);
            assert.equal(counts.CreateImage, undefined);
            assert.equal(counts.StopInstances, undefined);
            assert.deepEqual(outs.tags, { team: "platform" });
            assert.deepEqual(ec2.images.get(EARLIER_IMAGE)!.tags, { team: "platform" });
        });
    });
});
