// InstanceImage distribution: sharing, deprecation and protection through create, read, diff and update.
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

describe("InstanceImage provider: distribution", function () {
    const A = "111111111111";
    const B = "222222222222";
    let ec2: FakeEc2;
    let calls: FakeCall[];
    let restore: () => void;

    beforeEach(function () {
        ({ ec2, calls, provider, restore } = world());
    });
    afterEach(function () {
        restore();
    });

    /** A deprecation time next year, with seconds, as a user writes it. */
    const deprecateAt = `${new Date().getUTCFullYear() + 1}-03-01T10:20:40Z`;

    it("check: distribution inputs are validated, naming the property", async function () {
        const { failures } = await provider.check!({}, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, launchAccounts: ["12345"], shareSnapshots: "yes" });
        assert.ok(failures!.some((f) => f.property === "launchAccounts" && /is not a 12-digit AWS account ID/.test(f.reason)), JSON.stringify(failures));
        assert.ok(failures!.some((f) => f.property === "shareSnapshots" && /true or false/.test(f.reason)), JSON.stringify(failures));
        const past = await provider.check!({}, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, deprecateAt: "2020-01-01T00:00:00Z" });
        assert.ok(past.failures!.some((f) => f.property === "deprecateAt" && /not in the future/.test(f.reason)));
        // Unchanged from the last deployment, a passed time no longer blocks updates.
        const kept = await provider.check!({ deprecateAt: "2020-01-01T00:00:00Z" }, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, deprecateAt: "2020-01-01T00:00:00Z" });
        assert.deepEqual(kept.failures, []);
    });

    it("create: shares, deprecates and protects once the image is available; state keeps the values as written", async function () {
        const { outs } = await provider.create(
            inputsWith({ launchAccounts: [B, A], shareSnapshots: true, deprecateAt, deregistrationProtection: true }),
        );
        const order = actions(calls);
        const first = Math.min(...["ModifyImageAttribute", "ModifySnapshotAttribute", "EnableImageDeprecation", "EnableImageDeregistrationProtection"].map((a) => order.indexOf(a)));
        assert.ok(first > 0);
        // Only once the image was seen available: the name look, then pending, pending, pending, available.
        assert.ok(order.slice(0, first).filter((a) => a === "DescribeImages").length >= 5, order.join());
        assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, LaunchPermission: { Add: [{ UserId: A }, { UserId: B }] } }]);
        assert.equal(countByAction(calls).DescribeImageAttribute, undefined, "a fresh image has nothing to read first");
        const image = ec2.images.get(NEW_IMAGE)!;
        for (const s of image.snapshotIds) assert.deepEqual(ec2.snapshots.get(s)!.volumeUsers!.sort(), [A, B]);
        assert.equal(image.protection, "enabled-without-cooldown");
        assert.ok(image.deprecationTime);
        assert.deepEqual(outs.launchAccounts, [B, A]);
        assert.equal(outs.deprecateAt, deprecateAt);
        assert.equal(outs.shareSnapshots, true);
        assert.equal(outs.deregistrationProtection, true);
        assert.equal(outs.complete, true);
    });

    it("create without distribution inputs makes no distribution calls", async function () {
        await provider.create(inputsWith());
        const counts = countByAction(calls);
        for (const a of ["ModifyImageAttribute", "DescribeImageAttribute", "EnableImageDeprecation", "ModifySnapshotAttribute"]) assert.equal(counts[a], undefined, a);
    });

    it("read right after create reports the same state (refresh clean), deprecateAt kept as written though EC2 rounds it", async function () {
        const { outs } = await provider.create(inputsWith({ launchAccounts: [B, A], public: false, deprecateAt }));
        assert.notEqual(ec2.images.get(NEW_IMAGE)!.deprecationTime, deprecateAt, "EC2 keeps it rounded");
        const { props } = await provider.read!(NEW_IMAGE, outs as InstanceImageOutputs);
        const { __provider, ...rest } = outs as Record<string, unknown>;
        assert.deepEqual(props, rest);
    });

    it("read reports distribution changed outside Pulumi, and the next update puts it back", async function () {
        const { outs } = await provider.create(inputsWith({ launchAccounts: [A] }));
        ec2.images.get(NEW_IMAGE)!.launch!.push({ UserId: B });
        const { props } = await provider.read!(NEW_IMAGE, outs as InstanceImageOutputs);
        assert.deepEqual(props.launchAccounts, [A, B]);
        const d = await provider.diff!(NEW_IMAGE, props as InstanceImageOutputs, inputsWith({ launchAccounts: [A] }));
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, []);
        calls.length = 0;
        await provider.update!(NEW_IMAGE, props as InstanceImageOutputs, inputsWith({ launchAccounts: [A] }) as never);
        assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, LaunchPermission: { Remove: [{ UserId: B }] } }]);
        assert.deepEqual(ec2.images.get(NEW_IMAGE)!.launch, [{ UserId: A }]);
    });

    it("diff: distribution changes are updates in place; same meaning (order, false, same minute) is no change", async function () {
        const { outs } = await provider.create(inputsWith({ launchAccounts: [A, B], deprecateAt }));
        const same = await provider.diff!(NEW_IMAGE, outs as InstanceImageOutputs, inputsWith({ launchAccounts: [B, A], public: false, deprecateAt: deprecateAt.replace(":40Z", ":50Z") }));
        assert.equal(same.changes, false, JSON.stringify(same));
        for (const over of [{ launchAccounts: [A] }, { deprecateAt: undefined }, { public: true }, { deregistrationProtection: true }]) {
            const d = await provider.diff!(NEW_IMAGE, outs as InstanceImageOutputs, inputsWith({ launchAccounts: [A, B], deprecateAt, ...over }));
            assert.equal(d.changes, true, JSON.stringify(over));
            assert.deepEqual(d.replaces, [], JSON.stringify(over));
        }
    });

    it("update: removing one account and clearing the deprecation makes exactly those calls", async function () {
        const { outs } = await provider.create(inputsWith({ launchAccounts: [A, B], deprecateAt }));
        calls.length = 0;
        const { outs: after } = await provider.update!(NEW_IMAGE, outs as InstanceImageOutputs, inputsWith({ launchAccounts: [A] }) as never);
        assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, LaunchPermission: { Remove: [{ UserId: B }] } }]);
        assert.deepEqual(inputsOf(calls, "DisableImageDeprecation"), [{ ImageId: NEW_IMAGE }]);
        assert.equal(ec2.images.get(NEW_IMAGE)!.deprecationTime, undefined);
        assert.deepEqual(after.launchAccounts, [A]);
        assert.equal(after.deprecateAt, undefined);
        const { props } = await provider.read!(NEW_IMAGE, after as InstanceImageOutputs);
        const { __provider, ...rest } = after as Record<string, unknown>;
        assert.deepEqual(props, rest, "refresh after the update is clean");
    });

    it("a distribution step that fails keeps the image as a partial create (complete false); the next up applies what is missing", async function () {
        ec2.fail("EnableImageDeprecation", awsError("InvalidParameterValue", "The deprecation time can't be in the past."));
        const err = await rejection(provider.create(inputsWith({ launchAccounts: [A], deprecateAt })));
        assert.ok(err instanceof PartialCreateError, String(err));
        assert.match(err.message, /deprecation/);
        const olds = err.properties as unknown as InstanceImageOutputs;
        assert.equal(olds.complete, false);
        assert.equal(olds.state, "available");
        assert.equal(countByAction(calls).DeregisterImage, undefined, "a good image is never deleted for a later step");

        calls.length = 0;
        const { outs } = await provider.update!(err.id, olds, inputsWith({ launchAccounts: [A], deprecateAt }) as never);
        assert.equal(outs.complete, true);
        assert.equal(countByAction(calls).DescribeImageAttribute, 1, "the resume starts from what is live");
        assert.equal(countByAction(calls).EnableImageDeprecation, 1);
        // Deprecation comes before launch permissions, so the account is granted on resume, once.
        assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, LaunchPermission: { Add: [{ UserId: A }] } }]);
        assert.deepEqual(ec2.images.get(NEW_IMAGE)!.launch, [{ UserId: A }]);
        assert.ok(ec2.images.get(NEW_IMAGE)!.deprecationTime);
    });

    it("an image adopted by name from an interrupted run: the distribution is brought from what is live to the declared", async function () {
        ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: { ...MARKERS, team: "platform" }, launch: [{ UserId: B }] });
        const { outs } = await provider.create(inputsWith({ launchAccounts: [A] }));
        assert.equal(outs.imageId, EARLIER_IMAGE);
        assert.deepEqual(ec2.images.get(EARLIER_IMAGE)!.launch, [{ UserId: A }]);
        assert.deepEqual(outs.launchAccounts, [A]);
    });
});
