// Extension 13 (ext_accounts.py): an image shared with another account is seen and copied by
// it, as in EC2. Plain moto 5.2.1 keeps an image inside its owner's backend: the other account
// gets InvalidAMIID.NotFound for it, whatever launch permissions say, and cannot copy it.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { sharedEmulator, uniqueName, waitForImageState } from "./helpers";

const REGION = "us-east-1";
const OWNER = "444455556666";
const TARGET = "555566667777";

describe("emulator: images shared with another account", function () {
    let emulator: Emulator;
    let owner: ec2.EC2Client;
    let target: ec2.EC2Client;
    let imageId: string;
    let snapshots: string[];

    before(async function () {
        emulator = await sharedEmulator();
        await emulator.reset();
        owner = emulator.ec2(REGION, OWNER);
        target = emulator.ec2(REGION, TARGET);
        const builderId = await emulator.launchInstance(REGION, { accountId: OWNER });
        imageId = (await owner.send(new ec2.CreateImageCommand({ InstanceId: builderId, Name: uniqueName("shared") }))).ImageId!;
        const image = await waitForImageState(owner, imageId, ["available"]);
        snapshots = (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((s): s is string => !!s);
        assert.ok(snapshots.length > 0);
    });

    const describeAs = (client: ec2.EC2Client, input: ec2.DescribeImagesCommandInput) =>
        client.send(new ec2.DescribeImagesCommand(input)).then((o) => (o.Images ?? []).map((i) => i.ImageId), (e: Error) => e.name);
    const launch = (op: "Add" | "Remove") => owner.send(new ec2.ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { [op]: [{ UserId: TARGET }] } }));
    const storage = (op: "Add" | "Remove") =>
        Promise.all(snapshots.map((SnapshotId) => owner.send(new ec2.ModifySnapshotAttributeCommand({ SnapshotId, Attribute: "createVolumePermission", CreateVolumePermission: { [op]: [{ UserId: TARGET }] } }))));

    it("not shared: invisible to the other account; shared: described to it by ID, by owner and as executable; withdrawn: invisible again", async function () {
        assert.equal(await describeAs(target, { ImageIds: [imageId] }), "InvalidAMIID.NotFound");
        await launch("Add");
        try {
            assert.deepEqual(await describeAs(target, { ImageIds: [imageId] }), [imageId]);
            assert.deepEqual(await describeAs(target, { Owners: [OWNER] }), [imageId]);
            assert.ok(((await describeAs(target, { ExecutableUsers: ["self"] })) as string[]).includes(imageId));
            const seen = (await target.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
            assert.equal(seen.OwnerId, OWNER, "the owner stays the sharing account");
        } finally {
            await launch("Remove");
        }
        assert.equal(await describeAs(target, { ImageIds: [imageId] }), "InvalidAMIID.NotFound");
    });

    it("CopyImage by the other account: refused without create-volume permission on the snapshots, made in its own account with it", async function () {
        await launch("Add");
        try {
            const name = uniqueName("shared-copy");
            const refused = await target.send(new ec2.CopyImageCommand({ SourceImageId: imageId, SourceRegion: REGION, Name: name })).then(() => "copied", (e: Error) => e.name);
            assert.equal(refused, "AuthFailure");
            await storage("Add");
            const copyId = (await target.send(new ec2.CopyImageCommand({ SourceImageId: imageId, SourceRegion: REGION, Name: name }))).ImageId!;
            const copy = await waitForImageState(target, copyId, ["available"]);
            assert.equal(copy.OwnerId, TARGET, "the copy is the copying account's");
            assert.equal(copy.Name, name);
            assert.equal(await describeAs(owner, { ImageIds: [copyId] }), "InvalidAMIID.NotFound", "and not the owner's");
            const copySnapshots = (copy.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter(Boolean);
            const ownSnapshots = await target.send(new ec2.DescribeSnapshotsCommand({ SnapshotIds: copySnapshots as string[] }));
            assert.ok((ownSnapshots.Snapshots ?? []).every((s) => s.OwnerId === TARGET), "its snapshots are the copying account's");
        } finally {
            await storage("Remove");
            await launch("Remove");
        }
    });
});
