// InstanceImage update (resume, labels, after-image state), delete and read.
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

    describe("update", function () {
        it("resumes a partial create (state pending): waits until available and returns state available", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const partial = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 1 })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            const olds = partial.properties as unknown as InstanceImageOutputs;
            assert.equal(olds.state, "pending");

            // The image finishes meanwhile.
            const image = ec2.images.get(NEW_IMAGE)!;
            image.states = ["pending", "pending", "available"];
            for (const s of image.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "pending", progress: "60%" }, { state: "completed", progress: "100%" }];
            calls.length = 0;

            const { outs } = await provider.update!(partial.id, olds, inputsWith({ imageTimeoutMinutes: 1 }) as never);
            assert.equal(outs.state, "available");
            assert.equal(outs.imageId, NEW_IMAGE);
            assert.deepEqual(outs.snapshotIds, image.snapshotIds);
            assert.ok(image.served.includes("available"));
            const counts = countByAction(calls);
            assert.equal(counts.CreateImage, undefined);
            assert.equal(counts.CreateTags, undefined, "tags were set by CreateImage already");
            assert.equal(counts.DeleteTags, undefined);
        });

        it("resumes a create whose after-image step failed: starts the instance now", async function () {
            builder.startSteps = ["pending", "shutting-down"];
            const partial = await rejection(provider.create(inputsWith({ afterImage: "running" })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            builder.states = ["stopped"];
            builder.startSteps = ["pending", "running"];
            calls.length = 0;
            const olds = partial.properties as unknown as InstanceImageOutputs;
            const { outs } = await provider.update!(partial.id, olds, inputsWith({ afterImage: "running" }) as never);
            assert.equal(countByAction(calls).StartInstances, 1, "the unfinished step is done on resume");
            assert.equal(outs.complete, true);
            assert.equal(builder.states[0], "running");
        });

        it("a tag change: exactly one CreateTags with the changed tag and one DeleteTags with the removed key, on the image", async function () {
            const olds = await created({ tags: { team: "platform", env: "prod", keep: "same" } });
            assert.deepEqual(olds.tags, { team: "platform", env: "prod", keep: "same" });
            const { outs } = await provider.update!(NEW_IMAGE, olds, inputsWith({ tags: { team: "data", keep: "same", owner: "me" } }) as never);

            assert.deepEqual(inputsOf(calls, "CreateTags"), [
                { Resources: [NEW_IMAGE], Tags: [{ Key: "team", Value: "data" }, { Key: "owner", Value: "me" }] },
            ]);
            assert.deepEqual(inputsOf(calls, "DeleteTags"), [{ Resources: [NEW_IMAGE], Tags: [{ Key: "env" }] }]);
            assert.deepEqual(outs.tags, { team: "data", keep: "same", owner: "me" });
            // The markers stay on the image.
            assert.deepEqual(withoutLineage(ec2.images.get(NEW_IMAGE)!.tags), { team: "data", keep: "same", owner: "me", ...MARKERS });
            const counts = countByAction(calls);
            assert.equal(counts.StopInstances, undefined);
            assert.equal(counts.StartInstances, undefined);
        });

        it("a snapshot tag change: tags set and removed on the snapshot IDs", async function () {
            const olds = await created({ snapshotTags: { backup: "daily", tier: "1" } });
            const { outs } = await provider.update!(NEW_IMAGE, olds, inputsWith({ snapshotTags: { backup: "weekly" } }) as never);
            assert.deepEqual(inputsOf(calls, "CreateTags"), [{ Resources: olds.snapshotIds, Tags: [{ Key: "backup", Value: "weekly" }] }]);
            assert.deepEqual(inputsOf(calls, "DeleteTags"), [{ Resources: olds.snapshotIds, Tags: [{ Key: "tier" }] }]);
            assert.deepEqual(outs.snapshotTags, { backup: "weekly" });
            for (const s of olds.snapshotIds) assert.deepEqual(withoutLineage(ec2.snapshots.get(s)!.tags), { backup: "weekly", ...MARKERS });
        });

        it("a description change: ModifyImageAttribute", async function () {
            const olds = await created();
            const { outs } = await provider.update!(NEW_IMAGE, olds, inputsWith({ description: "golden web image" }) as never);
            assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, Description: { Value: "golden web image" } }]);
            assert.equal(outs.description, "golden web image");
        });

        it("afterImage stopped → running: starts the instance", async function () {
            const olds = await created();
            await provider.update!(NEW_IMAGE, olds, inputsWith({ afterImage: "running" }) as never);
            assert.equal(countByAction(calls).StartInstances, 1);
            assert.equal(builder.states[0], "running");
        });
    });

    describe("delete", function () {
        it("deregisters the image and deletes each of its snapshots", async function () {
            const outs = await created();
            await provider.delete!(NEW_IMAGE, outs);
            assert.deepEqual(inputsOf(calls, "DeregisterImage"), [{ ImageId: NEW_IMAGE }]);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
            assert.equal(outs.snapshotIds.length, 2);
            for (const s of outs.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted);
        });

        it("an image already deregistered (DescribeImages empty): still deletes the snapshots known from state", async function () {
            const outs = await created();
            ec2.images.get(NEW_IMAGE)!.deregistered = true;
            await provider.delete!(NEW_IMAGE, outs);
            assert.equal(countByAction(calls).DeregisterImage, undefined);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
            for (const s of outs.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted);
        });

        it("an image EC2 no longer knows (InvalidAMIID.NotFound): still deletes the snapshots known from state", async function () {
            const outs = await created();
            ec2.images.delete(NEW_IMAGE);
            await provider.delete!(NEW_IMAGE, outs);
            assert.equal(countByAction(calls).DeregisterImage, undefined);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
        });

        it("tolerates NotFound from DeleteSnapshot (already deleted)", async function () {
            const outs = await created();
            ec2.snapshots.get(outs.snapshotIds[0])!.deleted = true;
            await provider.delete!(NEW_IMAGE, outs);
            assert.equal(countByAction(calls).DeleteSnapshot, 2);
            assert.ok(ec2.snapshots.get(outs.snapshotIds[1])!.deleted);
            assert.ok(ec2.images.get(NEW_IMAGE)!.deregistered);
        });

        it("does not swallow other errors", async function () {
            const outs = await created();
            ec2.fail("DeleteSnapshot", awsError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403));
            const err = await rejection(provider.delete!(NEW_IMAGE, outs));
            assert.match(err.message, /UnauthorizedOperation/);
        });
    });

    describe("read", function () {
        it("reports the live image as create did (so a refresh right after create shows no diff)", async function () {
            const outs = await created();
            const { id, props } = await provider.read!(NEW_IMAGE, outs);
            assert.equal(id, NEW_IMAGE);
            // The dynamic-provider host adds __provider back to what read returns.
            const { __provider, ...rest } = outs as unknown as Record<string, unknown>;
            assert.equal(__provider, "x");
            assert.deepEqual(props, rest);
        });

        it("an image that is gone with its snapshots: no ID (dropped from state)", async function () {
            const outs = await created();
            ec2.images.get(NEW_IMAGE)!.deregistered = true;
            for (const s of ec2.images.get(NEW_IMAGE)!.snapshotIds) ec2.snapshots.get(s)!.deleted = true;
            const { id } = await provider.read!(NEW_IMAGE, outs);
            assert.equal(id, undefined);
        });

        it("an image deregistered out of band whose snapshots are left: kept, marked deregistered with them; the next up replaces it", async function () {
            const outs = await created();
            const image = ec2.images.get(NEW_IMAGE)!;
            image.deregistered = true;
            const [kept, ...others] = image.snapshotIds;
            for (const s of others) ec2.snapshots.get(s)!.deleted = true;
            const { id, props } = await provider.read!(NEW_IMAGE, outs);
            assert.equal(id, NEW_IMAGE);
            assert.equal(props.state, "deregistered");
            assert.deepEqual(props.snapshotIds, [kept]);
            const diff = await provider.diff!(NEW_IMAGE, props, inputsWith());
            assert.equal(diff.changes, true);
            assert.deepEqual(diff.replaces, ["state"]);
            assert.equal(diff.deleteBeforeReplace, false);
            // The replaced resource's delete removes the snapshots that were left.
            await provider.delete!(NEW_IMAGE, props);
            assert.equal(ec2.snapshots.get(kept)!.deleted, true);
        });
    });
});
