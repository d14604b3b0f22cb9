// Extension 4 (image lifecycle): deprecation, deregistration protection, DeleteAssociatedSnapshots.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { describeImage, errorOf, snapshotIds, uniqueName, sharedEmulator } from "./helpers";

const REGION = "us-east-1";

describe("emulator: image lifecycle", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;
    let instanceId: string;

    before(async function () {
        emulator = await sharedEmulator();
        await emulator.reset();
        client = emulator.ec2(REGION);
        instanceId = await emulator.launchInstance(REGION);
    });

    async function newImage(): Promise<string> {
        const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("life") }));
        return ImageId!;
    }

    async function snapshotExists(snapshotId: string): Promise<boolean> {
        const out = await client.send(new ec2.DescribeSnapshotsCommand({ Filters: [{ Name: "snapshot-id", Values: [snapshotId] }] }));
        return (out.Snapshots ?? []).length > 0;
    }

    it("EnableImageDeprecation sets DeprecationTime (rounded to the minute); Disable clears it", async function () {
        const imageId = await newImage();
        assert.equal((await describeImage(client, imageId)).DeprecationTime, undefined);
        const at = new Date(Date.UTC(2031, 0, 15, 10, 20, 40));
        await client.send(new ec2.EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: at }));
        assert.equal((await describeImage(client, imageId)).DeprecationTime, "2031-01-15T10:21:00.000Z");
        await client.send(new ec2.DisableImageDeprecationCommand({ ImageId: imageId }));
        assert.equal((await describeImage(client, imageId)).DeprecationTime, undefined);

        const past = await errorOf(client.send(new ec2.EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: new Date(Date.now() - 86_400_000) })));
        assert.equal(past.status, 400);
        const missing = await errorOf(client.send(new ec2.EnableImageDeprecationCommand({ ImageId: "ami-0123456789abcdef0", DeprecateAt: at })));
        assert.equal(missing.name, "InvalidAMIID.NotFound");
    });

    it("deregistration protection blocks DeregisterImage until disabled", async function () {
        const imageId = await newImage();
        assert.equal((await describeImage(client, imageId)).DeregistrationProtection, "disabled");
        const enabled = await client.send(new ec2.EnableImageDeregistrationProtectionCommand({ ImageId: imageId }));
        assert.equal(enabled.Return, "enabled-without-cooldown");
        assert.equal((await describeImage(client, imageId)).DeregistrationProtection, "enabled-without-cooldown");

        const refused = await errorOf(client.send(new ec2.DeregisterImageCommand({ ImageId: imageId })));
        assert.equal(refused.name, "OperationNotPermitted");
        assert.equal(refused.status, 400);
        assert.equal((await describeImage(client, imageId)).State, "available", "still registered");

        const disabled = await client.send(new ec2.DisableImageDeregistrationProtectionCommand({ ImageId: imageId }));
        assert.equal(disabled.Return, "disabled");
        await client.send(new ec2.DeregisterImageCommand({ ImageId: imageId }));
        const gone = await client.send(new ec2.DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "image-id", Values: [imageId] }] }));
        assert.equal(gone.Images!.length, 0);
    });

    it("protection with cooldown still blocks deregistration for 24 hours after it is disabled", async function () {
        const imageId = await newImage();
        await client.send(new ec2.EnableImageDeregistrationProtectionCommand({ ImageId: imageId, WithCooldown: true }));
        assert.equal((await describeImage(client, imageId)).DeregistrationProtection, "enabled-with-cooldown");
        await client.send(new ec2.DisableImageDeregistrationProtectionCommand({ ImageId: imageId }));
        assert.match((await describeImage(client, imageId)).DeregistrationProtection ?? "", /^disabled-until \d{4}-\d\d-\d\dT/);
        assert.equal((await errorOf(client.send(new ec2.DeregisterImageCommand({ ImageId: imageId })))).name, "OperationNotPermitted");
    });

    it("DeregisterImage DeleteAssociatedSnapshots deletes the image's snapshots and lists them", async function () {
        const imageId = await newImage();
        const snapshots = snapshotIds(await describeImage(client, imageId));
        assert.ok(snapshots.length >= 1);
        const out = await client.send(new ec2.DeregisterImageCommand({ ImageId: imageId, DeleteAssociatedSnapshots: true }));
        assert.deepEqual(
            (out.DeleteSnapshotResults ?? []).map((r) => [r.SnapshotId, r.ReturnCode]).sort(),
            snapshots.map((id) => [id, "success"]).sort(),
        );
        for (const id of snapshots) assert.equal(await snapshotExists(id), false, `${id} deleted`);
    });

    it("without DeleteAssociatedSnapshots the snapshots stay (and can then be deleted)", async function () {
        const imageId = await newImage();
        const snapshots = snapshotIds(await describeImage(client, imageId));
        const inUse = await errorOf(client.send(new ec2.DeleteSnapshotCommand({ SnapshotId: snapshots[0] })));
        assert.equal(inUse.name, "InvalidSnapshot.InUse");
        const out = await client.send(new ec2.DeregisterImageCommand({ ImageId: imageId }));
        assert.equal(out.DeleteSnapshotResults, undefined);
        for (const id of snapshots) assert.equal(await snapshotExists(id), true);
        await client.send(new ec2.DeleteSnapshotCommand({ SnapshotId: snapshots[0] }));
    });

    it("DescribeSnapshots OwnerIds self lists only the account's snapshots (moto ignores OwnerIds)", async function () {
        const imageId = await newImage();
        const mine = snapshotIds(await describeImage(client, imageId));
        const all = await client.send(new ec2.DescribeSnapshotsCommand({}));
        assert.ok(all.Snapshots!.some((s) => s.OwnerId !== "123456789012"), "moto's public AMIs bring snapshots of other owners");
        const own = await client.send(new ec2.DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
        assert.ok(own.Snapshots!.length > 0);
        assert.ok(own.Snapshots!.every((s) => s.OwnerId === "123456789012"));
        for (const id of mine) assert.ok(own.Snapshots!.some((s) => s.SnapshotId === id));
        const byId = await client.send(new ec2.DescribeSnapshotsCommand({ OwnerIds: ["123456789012"] }));
        assert.equal(byId.Snapshots!.length, own.Snapshots!.length);
    });

    it("ModifySnapshotAttribute honours CreateVolumePermission Add/Remove (moto reads only OperationType + UserIds)", async function () {
        const [snapshotId] = snapshotIds(await describeImage(client, await newImage()));
        const users = async () =>
            ((await client.send(new ec2.DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" })))
                .CreateVolumePermissions ?? []).map((p) => p.UserId).sort();
        await client.send(new ec2.ModifySnapshotAttributeCommand({
            SnapshotId: snapshotId,
            Attribute: "createVolumePermission",
            CreateVolumePermission: { Add: [{ UserId: "111111111111" }, { UserId: "222222222222" }] },
        }));
        assert.deepEqual(await users(), ["111111111111", "222222222222"]);
        await client.send(new ec2.ModifySnapshotAttributeCommand({
            SnapshotId: snapshotId,
            Attribute: "createVolumePermission",
            CreateVolumePermission: { Remove: [{ UserId: "111111111111" }] },
        }));
        assert.deepEqual(await users(), ["222222222222"]);
    });
});
