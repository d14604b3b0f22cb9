// The one image lifecycle (providers/lifecycle/image-lifecycle.ts), run for every image kind
// against the one fake EC2: the branches where InstanceImage and ImageCopy had drifted apart
// (a failed image whose delete fails too, a resume that finds the image failed, an adopted
// image's labels), and readiness inside InstanceImage's create.
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { FakeEc2, FakeImage } from "../support/fake-ec2";
import { actions, awsError, countByAction, FakeClock, rejection, testProviders } from "../support/fakes";
import * as copy from "./image-copy/fixture";
import * as instance from "./instance-image/fixture";
import { kinds } from "./lifecycle-kinds";

const FAILED_REASON = { Code: "Client.InternalError", Message: "Client.InternalError: snapshot creation ran out of capacity" };
const DENIED = () => awsError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403);

for (const kind of kinds) {
    describe(`image lifecycle (${kind.name})`, function () {
        let ec2: FakeEc2;
        let provider: pulumi.dynamic.ResourceProvider;
        let restore: () => void;

        beforeEach(function () {
            ec2 = kind.ec2();
            restore = ec2.install();
            provider = testProviders(new FakeClock())[kind.name];
        });
        afterEach(function () {
            restore();
        });

        it("create: the last progress line says the image is available with its snapshots completed, not what the wait saw last", async function () {
            const lines: string[] = [];
            const reporting = testProviders(new FakeClock(), (line) => lines.push(line))[kind.name];
            const { id } = await reporting.create(kind.inputs());
            assert.ok(lines.some((l) => /pending/.test(l)), `the wait reported progress: ${lines.join(" | ")}`);
            const n = made().snapshotIds.length;
            assert.equal(lines.at(-1), `${kind.name === "ImageCopy" ? "copy" : "image"} ${id} available, ${n === 1 ? "its snapshot" : `all ${n} snapshots`} completed`);
        });

        /** The image the provider made (the only one made by the kind's call). */
        const made = (): FakeImage => {
            const ours = [...ec2.images.values()].filter((i) => i.madeBy === kind.makes);
            assert.equal(ours.length, 1, `one image made by ${kind.makes}`);
            return ours[0];
        };
        const gone = (image: FakeImage) => {
            assert.ok(image.deregistered, `${image.id} deregistered`);
            for (const s of image.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted, `${s} orphaned`);
        };

        describe("create: an image that ends failed and whose delete fails too", function () {
            beforeEach(function () {
                ec2.newImageStates = ["pending", "failed"];
                ec2.newImageStateReason = FAILED_REASON;
                ec2.newSnapshotSteps = [{ state: "pending", progress: "30%" }];
            });

            /** The made image and the create's error, asserting that the error keeps the image in state as failed. */
            const keptAsFailed = (err: Error): [FakeImage, PartialCreateError] => {
                const image = made();
                assert.ok(err instanceof PartialCreateError, `kept in state, not forgotten: ${err}`);
                assert.equal(err.id, image.id);
                assert.equal(err.properties.imageId, image.id);
                assert.equal(err.properties.state, "failed");
                return [image, err];
            };

            it("DeregisterImage fails: a PartialCreateError with the image's ID and state failed, kept in state; destroy then removes it", async function () {
                ec2.fail("DeregisterImage", DENIED());
                const err = await rejection(provider.create(kind.inputs()));
                const [image, kept] = keptAsFailed(err);
                assert.equal(kept.properties.complete, false);
                assert.match(err.message, /snapshot creation ran out of capacity/);
                assert.match(err.message, /Deleting the failed (image|copy) failed too/);
                assert.match(err.message, /UnauthorizedOperation/);
                assert.ok(!image.deregistered);

                // `pulumi destroy` of what state kept removes the image and its snapshots.
                await provider.delete!(kept.id, kept.properties);
                gone(image);
            });

            it("DeleteSnapshot fails: a PartialCreateError with the image's ID and state failed", async function () {
                ec2.fail("DeleteSnapshot", DENIED());
                const err = await rejection(provider.create(kind.inputs()));
                const [image, kept] = keptAsFailed(err);
                assert.match(err.message, /Deleting the failed (image|copy) failed too/);
                // The image is deregistered by now; the state still names its snapshots, so destroy removes them.
                assert.deepEqual(kept.properties.snapshotIds, image.snapshotIds);
                await provider.delete!(kept.id, kept.properties);
                gone(image);
            });
        });

        it("update: a resumed create (complete false) whose image is now failed deletes the image and its snapshots and says so", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const partial = await rejection(provider.create(kind.inputs({ imageTimeoutMinutes: 1 })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            assert.equal(partial.properties.complete, false);
            const image = made();
            assert.ok(!image.deregistered, "a pending image is kept for the resume");

            // Meanwhile the image failed (and its snapshots with it).
            image.states = ["failed"];
            image.stateReason = FAILED_REASON;
            for (const s of image.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "error", progress: "5%" }];
            const err = await rejection(provider.update!(partial.id, partial.properties, kind.inputs({ imageTimeoutMinutes: 1 }) as never));
            assert.match(err.message, /snapshot creation ran out of capacity/);
            assert.match(err.message, /The failed (image|copy) and its snapshots were deleted/);
            gone(image);
        });

        it("create: an image adopted by name from an interrupted run gets exactly the declared tags, snapshot tags and description", async function () {
            const earlier = ec2.seedImage(
                { id: "ami-0bbbbbbbbbbbbbbb2", region: kind.region, name: kind.imageName, description: "old", tags: { ...kind.markers, team: "old", stale: "1" } },
                undefined,
                { ...kind.markers, backup: "weekly", tier: "1" },
            );
            const { id, outs } = await provider.create(kind.inputs({ description: "golden", tags: { team: "platform" }, snapshotTags: { backup: "daily" } }));
            assert.equal(id, earlier.id);
            assert.equal(countByAction(ec2.calls)[kind.makes], undefined, "adopted, not made again");
            assert.deepEqual(earlier.tags, { ...kind.markers, team: "platform" });
            for (const s of earlier.snapshotIds) assert.deepEqual(ec2.snapshots.get(s)!.tags, { ...kind.markers, backup: "daily" });
            assert.equal(earlier.description, "golden");
            assert.deepEqual(outs.tags, { team: "platform" });
            assert.deepEqual(outs.snapshotTags, { backup: "daily" });
            assert.equal(outs.description, "golden");
        });
    });
}

describe("image lifecycle (ImageCopy): CopyImage idempotency", function () {
    let ec2: FakeEc2;
    let restore: () => void;
    beforeEach(function () {
        ec2 = copy.copyEc2();
        restore = ec2.install();
    });
    afterEach(function () {
        restore();
    });

    it("a retried create that cannot see its first copy by name gets the same copy back (the ClientToken), not a second one", async function () {
        const provider = testProviders(new FakeClock()).ImageCopy;
        // Neither the second create's name look nor CopyImage's name check sees the first copy yet.
        ec2.hiddenByName = 3;
        const first = await provider.create(copy.inputsWith());
        const second = await provider.create(copy.inputsWith());
        assert.equal(ec2.copies().length, 1, "one copy");
        assert.equal(second.id, first.id);
        const copyCalls = ec2.calls.filter((c) => c.action === "CopyImage");
        assert.equal(copyCalls.length, 2, "both creates called CopyImage");
        for (const c of copyCalls) assert.equal(typeof c.input.ClientToken, "string", "every CopyImage carries a ClientToken");
    });
});

describe("image lifecycle (InstanceImage): builder readiness inside create", function () {
    let ec2: FakeEc2;
    let provider: pulumi.dynamic.ResourceProvider;
    let restore: () => void;
    let builder: ReturnType<FakeEc2["seedInstance"]>;
    /** The instance states EC2 had answered when CreateImage came. */
    let seenAtCreate: string[] | undefined;

    beforeEach(function () {
        ({ ec2, builder, provider, restore } = instance.world());
        seenAtCreate = undefined;
        ec2.beforeMake = () => {
            seenAtCreate = [...builder.served];
        };
    });
    afterEach(function () {
        restore();
    });

    it('waitForBuilder "stopped": CreateImage only after the builder was seen powered off on its own (no StopInstances)', async function () {
        // The user data runs for three looks, then the builder shuts itself down.
        builder.states = ["running", "running", "running", "stopping", "stopped"];
        const { outs } = await provider.create(instance.inputsWith({ waitForBuilder: "stopped", provisioningTimeoutMinutes: 30 }));
        assert.equal(outs.state, "available");
        assert.equal(countByAction(ec2.calls).StopInstances, undefined, "the builder powered itself off");
        assert.equal(ec2.instanceStateAtCreateImage, "stopped");
        assert.ok(seenAtCreate, "CreateImage was called");
        assert.deepEqual(seenAtCreate.filter((s, i) => s !== seenAtCreate![i - 1]), ["running", "stopping", "stopped"], seenAtCreate.join());
        assert.equal(seenAtCreate.at(-1), "stopped");
    });

    it('waitForBuilder "stopped" with stopBeforeImage false: still waits for the power-off before CreateImage', async function () {
        builder.states = ["running", "running", "stopping", "stopped"];
        await provider.create(instance.inputsWith({ waitForBuilder: "stopped", stopBeforeImage: false, provisioningTimeoutMinutes: 30 }));
        assert.equal(ec2.instanceStateAtCreateImage, "stopped");
        assert.equal(countByAction(ec2.calls).StopInstances, undefined);
    });

    it('waitForBuilder "status-ok": CreateImage only after both status checks passed', async function () {
        builder.statuses = [
            { system: "initializing", instance: "initializing" },
            { system: "ok", instance: "initializing" },
            { system: "ok", instance: "ok" },
        ];
        await provider.create(instance.inputsWith({ waitForBuilder: "status-ok", provisioningTimeoutMinutes: 30 }));
        const order = actions(ec2.calls);
        assert.equal(order.filter((a) => a === "DescribeInstanceStatus").length, 3);
        assert.ok(order.lastIndexOf("DescribeInstanceStatus") < order.indexOf("CreateImage"), order.join());
    });

    it('waitForBuilder "status-ok" and an impaired builder: create fails before CreateImage with the status-check message', async function () {
        builder.statuses = [
            { system: "initializing", instance: "initializing" },
            { system: "ok", instance: "impaired" },
        ];
        const err = await rejection(provider.create(instance.inputsWith({ waitForBuilder: "status-ok", provisioningTimeoutMinutes: 30 })));
        assert.match(err.message, /status checks failed \(system ok, instance impaired\)/);
        assert.match(err.message, new RegExp(instance.INSTANCE));
        assert.ok(!(err instanceof PartialCreateError), "nothing was made");
        const counts = countByAction(ec2.calls);
        assert.equal(counts.CreateImage, undefined);
        assert.equal(counts.StopInstances, undefined);
        assert.equal(counts.DescribeInstanceStatus, 2);
    });
});
