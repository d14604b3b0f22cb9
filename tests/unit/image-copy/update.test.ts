// ImageCopy distribution, update, delete and read.
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
import { awsError, countByAction, inputsOf, rejection } from "../../support/fakes";
import { A, B, copyEc2, inputsWith, KEY_ARN, MARKERS, NAME, REGION, SOURCE, SOURCE_IMAGE, SOURCE_NAME, SOURCE_REGION, URN, withoutProvider, world, LINEAGE, withoutLineage } from "./fixture";

let provider: pulumi.dynamic.ResourceProvider;
const UNKNOWN = pulumi.runtime.unknownValue;

describe("ImageCopy provider", function () {
    let ec2: FakeEc2;
    let calls: FakeCall[];
    let undo: Array<() => void>;

    beforeEach(function () {
        let restore: () => void;
        ({ ec2, calls, provider, restore } = world());
        undo = [restore];
    });
    afterEach(function () {
        for (const u of undo.reverse()) u();
    });


    async function created(over: Record<string, unknown> = {}): Promise<ImageCopyOutputs> {
        const { outs } = await provider.create(inputsWith(over));
        calls.length = 0;
        return outs as ImageCopyOutputs;
    }

    describe("distribution", function () {
        const deprecateAt = `${new Date().getUTCFullYear() + 1}-06-01T08:00:29Z`;

        it("create shares and deprecates once the copy is available; read right after is identical", async function () {
            const { id, outs } = await provider.create(inputsWith({ launchAccounts: [B, A], shareSnapshots: true, deprecateAt }));
            const copy = ec2.copies()[0];
            assert.deepEqual(copy.launch, [{ UserId: A }, { UserId: B }]);
            for (const s of copy.snapshotIds) assert.deepEqual(ec2.snapshots.get(s)!.volumeUsers.sort(), [A, B]);
            assert.equal(copy.deprecationTime, new Date(Math.round(Date.parse(deprecateAt) / 60_000) * 60_000).toISOString());
            assert.deepEqual(outs.launchAccounts, [B, A]);
            assert.equal(outs.deprecateAt, deprecateAt);
            const { props } = await provider.read!(id, outs as ImageCopyOutputs);
            assert.deepEqual(props, withoutProvider(outs));
        });

        it("a failing distribution step: partial create with complete false; the next up applies the rest from what is live", async function () {
            ec2.fail("ModifyImageAttribute", awsError("UnauthorizedOperation", "You are not authorized", 403));
            const err = await rejection(provider.create(inputsWith({ launchAccounts: [A], deprecateAt })));
            assert.ok(err instanceof PartialCreateError, String(err));
            assert.match(err.message, /UnauthorizedOperation/);
            const olds = err.properties as unknown as ImageCopyOutputs;
            assert.equal(olds.complete, false);
            assert.equal(olds.state, "available");
            assert.equal(countByAction(calls).DeregisterImage, undefined);
            calls.length = 0;
            const { outs } = await provider.update!(err.id, olds, inputsWith({ launchAccounts: [A], deprecateAt }) as never);
            assert.equal(outs.complete, true);
            assert.equal(countByAction(calls).EnableImageDeprecation, undefined, "already set before the failure: not set again");
            assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: err.id, LaunchPermission: { Add: [{ UserId: A }] } }]);
        });

        it("update: removing one of two accounts removes exactly that one; clearing deprecateAt clears it", async function () {
            const olds = await created({ launchAccounts: [A, B], deprecateAt });
            const { outs } = await provider.update!(olds.imageId, olds, inputsWith({ launchAccounts: [A] }) as never);
            assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: olds.imageId, LaunchPermission: { Remove: [{ UserId: B }] } }]);
            assert.deepEqual(inputsOf(calls, "DisableImageDeprecation"), [{ ImageId: olds.imageId }]);
            assert.deepEqual(ec2.copies()[0].launch, [{ UserId: A }]);
            assert.equal(countByAction(calls).CopyImage, undefined);
            const { props } = await provider.read!(olds.imageId, outs as ImageCopyOutputs);
            assert.deepEqual(props, withoutProvider(outs));
        });

        it("read reports a launch permission added outside Pulumi", async function () {
            const olds = await created({ launchAccounts: [A] });
            ec2.copies()[0].launch.push({ UserId: B });
            const { props } = await provider.read!(olds.imageId, olds);
            assert.deepEqual(props.launchAccounts, [A, B]);
        });
    });

    describe("update", function () {
        it("tags: exactly the difference on the copy and on its snapshots", async function () {
            const olds = await created({ tags: { team: "platform", env: "prod" }, snapshotTags: { backup: "daily", tier: "1" } });
            const { outs } = await provider.update!(olds.imageId, olds, inputsWith({ tags: { team: "data" }, snapshotTags: { backup: "daily" } }) as never);
            assert.deepEqual(inputsOf(calls, "CreateTags"), [{ Resources: [olds.imageId], Tags: [{ Key: "team", Value: "data" }] }]);
            assert.deepEqual(inputsOf(calls, "DeleteTags"), [
                { Resources: [olds.imageId], Tags: [{ Key: "env" }] },
                { Resources: olds.snapshotIds, Tags: [{ Key: "tier" }] },
            ]);
            assert.deepEqual(outs.tags, { team: "data" });
            assert.deepEqual(withoutLineage(ec2.copies()[0].tags), { team: "data", ...MARKERS });
        });

        it("description: ModifyImageAttribute", async function () {
            const olds = await created();
            const { outs } = await provider.update!(olds.imageId, olds, inputsWith({ description: "v2" }) as never);
            assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: olds.imageId, Description: { Value: "v2" } }]);
            assert.equal(outs.description, "v2");
        });

        it("copyImageTags off removes the copied tags (not the declared ones); on copies the source's tags again", async function () {
            const olds = await created({ copyImageTags: true, tags: { env: "prod" } });
            const { outs: off } = await provider.update!(olds.imageId, olds, inputsWith({ copyImageTags: false, tags: { env: "prod" } }) as never);
            // golden-ami's own markers copied from the source stay: they are never shown or managed as tags.
            assert.deepEqual(withoutLineage(ec2.copies()[0].tags), { env: "prod", ...MARKERS, "golden-ami:source-instance": "i-0123456789abcdef0" });
            assert.equal(off.copiedTags, undefined);
            assert.deepEqual(off.tags, { env: "prod" });
            const { outs: on } = await provider.update!(olds.imageId, off as ImageCopyOutputs, inputsWith({ copyImageTags: true, tags: { env: "prod" } }) as never);
            assert.deepEqual(on.copiedTags, { team: "platform" });
            assert.deepEqual(on.tags, { env: "prod" });
            assert.equal(ec2.copies()[0].tags.team, "platform");
        });
    });

    describe("delete", function () {
        it("deregisters the copy and deletes its own snapshots (never the source's)", async function () {
            const outs = await created();
            await provider.delete!(outs.imageId, outs);
            assert.deepEqual(inputsOf(calls, "DeregisterImage"), [{ ImageId: outs.imageId }]);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
            assert.ok(calls.every((c) => c.region === REGION));
            const source = ec2.images.get(SOURCE)!;
            assert.ok(!source.deregistered);
            for (const s of source.snapshotIds) assert.ok(!ec2.snapshots.get(s)!.deleted);
        });

        it("a copy already gone: still deletes the snapshots known from state", async function () {
            const outs = await created();
            ec2.copies()[0].deregistered = true;
            await provider.delete!(outs.imageId, outs);
            assert.equal(countByAction(calls).DeregisterImage, undefined);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
        });
    });

    describe("read", function () {
        it("reports the live copy as create did; a gone copy is kept, deregistered, while its snapshots are left; then has no ID", async function () {
            const outs = await created({ launchAccounts: [A], public: false });
            const { id, props } = await provider.read!(outs.imageId, outs);
            assert.equal(id, outs.imageId);
            assert.deepEqual(props, withoutProvider(outs as unknown as Record<string, unknown>));
            ec2.copies()[0].deregistered = true;
            const marked = await provider.read!(outs.imageId, outs);
            assert.equal(marked.id, outs.imageId);
            assert.equal(marked.props.state, "deregistered");
            assert.deepEqual(marked.props.snapshotIds, outs.snapshotIds);
            assert.deepEqual((await provider.diff!(outs.imageId, marked.props, inputsWith({ launchAccounts: [A], public: false }) as any)).replaces, ["state"]);
            for (const s of outs.snapshotIds) ec2.snapshots.get(s)!.deleted = true;
            assert.equal((await provider.read!(outs.imageId, outs)).id, undefined);
        });
    });
});
