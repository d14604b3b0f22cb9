// Extension 2 (CreateImage): snapshot tags, NoReboot, BlockDeviceMappings, instance-state errors.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator, pollUntil } from "../support/emulator";
import { describeImage, describeSnapshot, errorOf, instanceState, snapshotIds, uniqueName, sharedEmulator } from "./helpers";

const REGION = "us-east-1";

describe("emulator: CreateImage", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;

    before(async function () {
        emulator = await sharedEmulator();
        await emulator.reset();
        client = emulator.ec2(REGION);
    });

    /** An instance with its root volume plus a 4 GiB data volume on /dev/sdf. */
    async function instanceWithDataVolume(): Promise<{ instanceId: string; rootDevice: string; rootSize: number }> {
        const instanceId = await emulator.launchInstance(REGION);
        const described = await client.send(new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        const instance = described.Reservations![0].Instances![0];
        const volume = await client.send(new ec2.CreateVolumeCommand({ AvailabilityZone: instance.Placement!.AvailabilityZone, Size: 4 }));
        await client.send(new ec2.AttachVolumeCommand({ InstanceId: instanceId, VolumeId: volume.VolumeId, Device: "/dev/sdf" }));
        const rootDevice = instance.RootDeviceName!;
        const rootVolumeId = instance.BlockDeviceMappings!.find((m) => m.DeviceName === rootDevice)!.Ebs!.VolumeId!;
        const rootVolume = await client.send(new ec2.DescribeVolumesCommand({ VolumeIds: [rootVolumeId] }));
        return { instanceId, rootDevice, rootSize: rootVolume.Volumes![0].Size! };
    }

    it("TagSpecifications for snapshot tag the image's snapshots (moto answers HTTP 500)", async function () {
        const instanceId = await emulator.launchInstance(REGION);
        const { ImageId } = await client.send(new ec2.CreateImageCommand({
            InstanceId: instanceId,
            Name: uniqueName("tagged"),
            TagSpecifications: [
                { ResourceType: "image", Tags: [{ Key: "Name", Value: "golden" }] },
                { ResourceType: "snapshot", Tags: [{ Key: "golden-ami:build", Value: "42" }] },
            ],
        }));
        const image = await describeImage(client, ImageId!);
        assert.deepEqual(image.Tags, [{ Key: "Name", Value: "golden" }]);
        const ids = snapshotIds(image);
        assert.ok(ids.length >= 1);
        for (const id of ids) {
            const snapshot = await describeSnapshot(client, id);
            assert.deepEqual(snapshot.Tags, [{ Key: "golden-ami:build", Value: "42" }]);
        }
    });

    it("one snapshot per instance volume; NoDevice drops a volume; VolumeSize resizes one", async function () {
        const { instanceId, rootDevice, rootSize } = await instanceWithDataVolume();

        const all = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("all") }));
        const allImage = await describeImage(client, all.ImageId!);
        assert.deepEqual(allImage.BlockDeviceMappings!.map((m) => m.DeviceName).sort(), [rootDevice, "/dev/sdf"].sort());
        assert.equal(allImage.RootDeviceName, rootDevice);

        const trimmed = await client.send(new ec2.CreateImageCommand({
            InstanceId: instanceId,
            Name: uniqueName("trimmed"),
            BlockDeviceMappings: [
                { DeviceName: "/dev/sdf", NoDevice: "" },
                { DeviceName: rootDevice, Ebs: { VolumeSize: rootSize + 12, VolumeType: "gp3" } },
            ],
        }));
        const image = await describeImage(client, trimmed.ImageId!);
        assert.deepEqual(image.BlockDeviceMappings!.map((m) => m.DeviceName), [rootDevice]);
        const root = image.BlockDeviceMappings![0].Ebs!;
        assert.equal(root.VolumeSize, rootSize + 12);
        assert.equal(root.VolumeType, "gp3");
        assert.equal(snapshotIds(image).length, 1);

        // Instances launched from the image get its mapping.
        const run = await client.send(new ec2.RunInstancesCommand({ ImageId: trimmed.ImageId, MinCount: 1, MaxCount: 1 }));
        const launched = run.Instances![0];
        const described = await client.send(new ec2.DescribeInstancesCommand({ InstanceIds: [launched.InstanceId!] }));
        const devices = described.Reservations![0].Instances![0].BlockDeviceMappings!.map((m) => m.DeviceName);
        assert.deepEqual(devices, [rootDevice]);
    });

    it("a VolumeSize smaller than the volume is refused", async function () {
        const { instanceId, rootDevice } = await instanceWithDataVolume();
        const error = await errorOf(client.send(new ec2.CreateImageCommand({
            InstanceId: instanceId,
            Name: uniqueName("shrunk"),
            BlockDeviceMappings: [{ DeviceName: rootDevice, Ebs: { VolumeSize: 1 } }],
        })));
        assert.equal(error.name, "InvalidBlockDeviceMapping");
        assert.equal(error.status, 400);
    });

    it("NoReboot true or false is accepted, recorded, and leaves the instance running", async function () {
        const instanceId = await emulator.launchInstance(REGION);
        const rebooting = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("reboot"), NoReboot: false }));
        const quiet = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("noreboot"), NoReboot: true }));
        assert.equal(await instanceState(client, instanceId), "running");
        const { images } = await emulator.calls();
        const recorded = images as unknown as Record<string, { noReboot?: boolean; instanceId?: string }>;
        assert.equal(recorded[rebooting.ImageId!].noReboot, false);
        assert.equal(recorded[quiet.ImageId!].noReboot, true);
        assert.equal(recorded[quiet.ImageId!].instanceId, instanceId);
    });

    it("a terminated or pending instance cannot be imaged (EC2: InvalidParameterValue, HTTP 400)", async function () {
        const instanceId = await emulator.launchInstance(REGION);
        await client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [instanceId] }));
        const error = await errorOf(client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("dead") })));
        assert.equal(error.status, 400);
        assert.equal(error.name, "InvalidParameterValue");
        assert.match(error.message, /not in state 'running' or 'stopping' or 'stopped'/);

        await emulator.configure({ timing: { instancePending: 5 } });
        try {
            const images = await client.send(new ec2.DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }] }));
            const run = await client.send(new ec2.RunInstancesCommand({ ImageId: images.Images![0].ImageId, MinCount: 1, MaxCount: 1 }));
            const pending = await errorOf(client.send(new ec2.CreateImageCommand({ InstanceId: run.Instances![0].InstanceId, Name: uniqueName("early") })));
            assert.equal(pending.name, "InvalidParameterValue");
        } finally {
            await emulator.configure({ timing: { instancePending: null } });
        }
    });

    it("a stopped instance can be imaged, and an image name can be used once per region", async function () {
        const instanceId = await emulator.launchInstance(REGION);
        await client.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
        await pollUntil(() => instanceState(client, instanceId), (s) => s === "stopped", { what: "stopped" });
        const name = uniqueName("once");
        await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: name }));
        const duplicate = await errorOf(client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: name })));
        assert.equal(duplicate.name, "InvalidAMIName.Duplicate");
    });
});
