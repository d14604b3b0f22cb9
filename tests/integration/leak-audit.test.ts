// The leak audit (tests/support/audit.ts) against the EC2 emulator: sharing left behind on an
// image that remains is a leak, of both kinds an AMI is shared by — the image's launch
// permission and its snapshots' create-volume permission (an account given the snapshot can
// copy the disk without the AMI) — and it stops being one once removed or held by a live stack.
import * as assert from "node:assert/strict";
import { CreateImageCommand, DescribeImagesCommand, EC2Client, ModifyImageAttributeCommand, ModifySnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import { ALL_KINDS, AccountInventory, describeLeaks, inventory, leakCount, unexpected } from "../support/audit";
import { Emulator } from "../support/emulator";

const REGION = "us-east-1";
const A = "111111111111";

describe("integration: the leak audit's inventory of shared images and snapshots (emulator)", function () {
    let emulator: Emulator;
    let ec2: EC2Client;
    let imageId: string;
    let snapshotId: string;
    /** The image and its snapshots exist before each test's baseline: only the sharing is new. */
    const fixtures = () => new Set([imageId, snapshotId]);
    const nobodyManages = async () => false;

    before(async function () {
        emulator = await Emulator.start();
        ec2 = emulator.ec2(REGION);
        const instanceId = await emulator.launchInstance(REGION);
        imageId = (await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: `ga-audit-${Date.now()}` }))).ImageId!;
        const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
        snapshotId = image.BlockDeviceMappings!.map((m) => m.Ebs?.SnapshotId).find((id): id is string => Boolean(id))!;
        assert.ok(snapshotId, "the emulator's image has an EBS snapshot");
    });

    after(async function () {
        await emulator?.stop();
    });

    const shareSnapshot = (op: "Add" | "Remove", who: { UserId?: string; Group?: "all" }) =>
        ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission", CreateVolumePermission: { [op]: [who] } }));
    const shareImage = (op: "Add" | "Remove", who: { UserId?: string; Group?: "all" }) =>
        ec2.send(new ModifyImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission", LaunchPermission: { [op]: [who] } }));
    const snapshot = () => inventory(emulator, [REGION], undefined, ALL_KINDS);

    it("inventories who may create volumes from each of the account's snapshots", async function () {
        const before = await snapshot();
        assert.deepEqual(before.volumePermissions?.[REGION]?.[snapshotId], []);
        await shareSnapshot("Add", { UserId: A });
        try {
            assert.deepEqual((await snapshot()).volumePermissions?.[REGION]?.[snapshotId], [A]);
        } finally {
            await shareSnapshot("Remove", { UserId: A });
        }
    });

    it("counts a create-volume permission left on a snapshot as a leak, naming the snapshot and the account", async function () {
        const before = await snapshot();
        await shareSnapshot("Add", { UserId: A });
        let leaks: AccountInventory;
        try {
            leaks = await unexpected(before, await snapshot(), { made: fixtures(), managed: nobodyManages });
        } finally {
            await shareSnapshot("Remove", { UserId: A });
        }
        assert.deepEqual(leaks.volumePermissions, { [REGION]: { [snapshotId]: [A] } });
        assert.equal(leakCount(leaks), 1, describeLeaks(leaks));
        assert.equal(describeLeaks(leaks), `${REGION} create-volume permission on ${snapshotId} for ${A}`);
        // Removed again: nothing left.
        const after = await unexpected(before, await snapshot(), { made: fixtures(), managed: nobodyManages });
        assert.equal(leakCount(after), 0, describeLeaks(after));
    });

    it("counts a snapshot left public (group all) as a leak", async function () {
        const before = await snapshot();
        await shareSnapshot("Add", { Group: "all" });
        let leaks: AccountInventory;
        try {
            leaks = await unexpected(before, await snapshot(), { made: fixtures(), managed: nobodyManages });
        } finally {
            await shareSnapshot("Remove", { Group: "all" });
        }
        assert.deepEqual(leaks.volumePermissions, { [REGION]: { [snapshotId]: ["all"] } });
        assert.equal(leakCount(leaks), 1);
    });

    it("does not count the sharing of a snapshot a live stack still manages", async function () {
        const before = await snapshot();
        await shareSnapshot("Add", { UserId: A });
        let leaks: AccountInventory;
        try {
            leaks = await unexpected(before, await snapshot(), { made: fixtures(), managed: async (id) => id === snapshotId });
        } finally {
            await shareSnapshot("Remove", { UserId: A });
        }
        assert.equal(leakCount(leaks), 0, describeLeaks(leaks));
    });

    it("counts a launch permission left on an image as a leak, and the sharing that was there before as none", async function () {
        await shareImage("Add", { UserId: "222222222222" });
        try {
            const before = await snapshot();
            await shareImage("Add", { UserId: A });
            let leaks: AccountInventory;
            try {
                leaks = await unexpected(before, await snapshot(), { made: fixtures(), managed: nobodyManages });
            } finally {
                await shareImage("Remove", { UserId: A });
            }
            assert.deepEqual(leaks.launchPermissions, { [REGION]: { [imageId]: [A] } });
            assert.equal(describeLeaks(leaks), `${REGION} launch permission on ${imageId} for ${A}`);
        } finally {
            await shareImage("Remove", { UserId: "222222222222" });
        }
    });
});
