// Extension 12 (ext_launch_mappings.py): RunInstances block device mappings laid over the AMI's,
// as EC2 does. Plain moto 5.2.1 launches with the request's mappings instead of the AMI's, so an
// instance of a two-volume image with a bigger root volume came up with its root volume only.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { sharedEmulator, uniqueName, waitForImageState } from "./helpers";

const REGION = "us-east-1";

describe("emulator: RunInstances block device mappings merged with the AMI's", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;
    let imageId: string;
    let dataSnapshotId: string;

    /** The instance's volumes as "device size snapshot", sorted. */
    async function volumesOf(instanceId: string): Promise<string[]> {
        const out = await client.send(new ec2.DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }] }));
        return (out.Volumes ?? []).map((v) => `${v.Attachments?.[0]?.Device} ${v.Size} ${v.SnapshotId || "-"}`).sort();
    }

    async function launch(input: Partial<ec2.RunInstancesCommandInput>): Promise<string> {
        const run = await client.send(new ec2.RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: "t3.micro", ...input }));
        return run.Instances![0].InstanceId!;
    }

    before(async function () {
        emulator = await sharedEmulator();
        await emulator.reset();
        client = emulator.ec2(REGION);
        // A golden image with a root volume and a 20 GiB data volume.
        const builderId = await emulator.launchInstance(REGION);
        const builder = await client.send(new ec2.DescribeInstancesCommand({ InstanceIds: [builderId] }));
        const root = builder.Reservations![0].Instances![0].RootDeviceName!;
        const data = await client.send(new ec2.CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 20 }));
        await client.send(new ec2.AttachVolumeCommand({ VolumeId: data.VolumeId!, InstanceId: builderId, Device: "/dev/sdf" }));
        const made = await client.send(new ec2.CreateImageCommand({ InstanceId: builderId, Name: uniqueName("mappings") }));
        imageId = made.ImageId!;
        const image = await waitForImageState(client, imageId, ["available"]);
        const devices = (image.BlockDeviceMappings ?? []).map((m) => m.DeviceName).sort();
        assert.deepEqual(devices, [root, "/dev/sdf"].sort(), "the image has both volumes");
        dataSnapshotId = image.BlockDeviceMappings!.find((m) => m.DeviceName === "/dev/sdf")!.Ebs!.SnapshotId!;
    });

    it("a bigger root volume in the request keeps the AMI's root snapshot and its other volumes", async function () {
        const image = (await client.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
        const root = image.RootDeviceName!;
        const rootSnapshot = image.BlockDeviceMappings!.find((m) => m.DeviceName === root)!.Ebs!.SnapshotId!;
        const instanceId = await launch({ ImageId: imageId, BlockDeviceMappings: [{ DeviceName: root, Ebs: { VolumeSize: 30 } }] });
        assert.deepEqual(await volumesOf(instanceId), [`${root} 30 ${rootSnapshot}`, `/dev/sdf 20 ${dataSnapshotId}`].sort());
    });

    it("NoDevice drops one of the AMI's volumes; a new device is added", async function () {
        const image = (await client.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
        const root = image.RootDeviceName!;
        const instanceId = await launch({
            ImageId: imageId,
            BlockDeviceMappings: [
                { DeviceName: "/dev/sdf", NoDevice: "" },
                { DeviceName: "/dev/sdg", Ebs: { VolumeSize: 5 } },
            ],
        });
        const volumes = await volumesOf(instanceId);
        assert.deepEqual(volumes.map((v) => v.split(" ")[0]), [root, "/dev/sdg"].sort());
        assert.ok(volumes.includes("/dev/sdg 5 -"), volumes.join(", "));
    });

    it("a launch template's mappings are merged the same way", async function () {
        const image = (await client.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
        const root = image.RootDeviceName!;
        await client.send(new ec2.CreateLaunchTemplateCommand({
            LaunchTemplateName: uniqueName("mappings-lt"),
            LaunchTemplateData: { ImageId: imageId, InstanceType: "t3.micro", BlockDeviceMappings: [{ DeviceName: root, Ebs: { VolumeSize: 40 } }] },
        }));
        const templates = await client.send(new ec2.DescribeLaunchTemplatesCommand({}));
        const template = templates.LaunchTemplates!.at(-1)!;
        const instanceId = await launch({ LaunchTemplate: { LaunchTemplateId: template.LaunchTemplateId!, Version: "$Latest" } });
        const volumes = await volumesOf(instanceId);
        assert.deepEqual(volumes.map((v) => v.split(" ").slice(0, 2).join(" ")), [`${root} 40`, "/dev/sdf 20"].sort());
    });
});
