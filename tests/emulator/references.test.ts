// Extension 8 (ext_references.py): DescribeImageReferences, DisableImage/EnableImage, LastLaunchedTime,
// and RunInstances from a deregistered or disabled AMI failing as EC2 fails. Plain moto 5.2.1 has
// none of these actions, and launches from a deregistered AMI without complaint.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { Emulator } from "../support/emulator";
import { describeImage, errorOf, sharedEmulator, uniqueName } from "./helpers";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";

describe("emulator: image references, disabled images, last launch", function () {
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
        const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("refs") }));
        return ImageId!;
    }

    async function launch(imageId: string): Promise<string> {
        const run = await client.send(new ec2.RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: "t3.micro" }));
        return run.Instances![0].InstanceId!;
    }

    async function references(imageIds: string[], input: Partial<ec2.DescribeImageReferencesCommandInput> = { IncludeAllResourceTypes: true }) {
        const out = await client.send(new ec2.DescribeImageReferencesCommand({ ImageIds: imageIds, ...input }));
        return (out.ImageReferences ?? []).map((r) => `${r.ImageId} ${r.ResourceType} ${r.Arn}`).sort();
    }

    it("DescribeImageReferences names the instances, launch templates and SSM parameters that use an image", async function () {
        const imageId = await newImage();
        const other = await newImage();
        assert.deepEqual(await references([imageId]), [], "nothing uses a new image");

        const launched = await launch(imageId);
        const template = await client.send(
            new ec2.CreateLaunchTemplateCommand({ LaunchTemplateName: uniqueName("lt"), LaunchTemplateData: { ImageId: imageId, InstanceType: "t3.micro" } }),
        );
        const templateId = template.LaunchTemplate!.LaunchTemplateId!;
        const ssm = new SSMClient({ region: REGION, endpoint: emulator.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        const parameter = `/golden-ami-test/${uniqueName("p")}/latest`;
        await ssm.send(new PutParameterCommand({ Name: parameter, Type: "String", DataType: "aws:ec2:image", Value: imageId }));

        assert.deepEqual(await references([imageId, other]), [
            `${imageId} ec2:Instance arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${launched}`,
            `${imageId} ec2:LaunchTemplate arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/${templateId}`,
            `${imageId} ssm:Parameter arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${parameter}`,
        ].sort());

        // Only the resource types asked for; an instance state filter leaves terminated instances out.
        await client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [launched] }));
        const live = await references([imageId], {
            ResourceTypes: [{ ResourceType: "ec2:Instance", ResourceTypeOptions: [{ OptionName: "state-name", OptionValues: ["pending", "running", "stopping", "stopped"] }] }],
        });
        assert.deepEqual(live, []);
        const templates = await references([imageId], { ResourceTypes: [{ ResourceType: "ec2:LaunchTemplate" }] });
        assert.equal(templates.length, 1);

        // Once the template's newest versions name another image (version-depth), it no longer counts.
        await client.send(new ec2.CreateLaunchTemplateVersionCommand({ LaunchTemplateId: templateId, LaunchTemplateData: { ImageId: other, InstanceType: "t3.micro" } }));
        const depthOne = await references([imageId], { ResourceTypes: [{ ResourceType: "ec2:LaunchTemplate", ResourceTypeOptions: [{ OptionName: "version-depth", OptionValues: ["1"] }] }] });
        assert.deepEqual(depthOne, []);
        assert.equal((await references([imageId], { ResourceTypes: [{ ResourceType: "ec2:LaunchTemplate" }] })).length, 1, "default depth 10 still sees version 1");

        const neither = await errorOf(client.send(new ec2.DescribeImageReferencesCommand({ ImageIds: [imageId] })));
        assert.equal(neither.name, "InvalidParameterCombination");
        const missing = await errorOf(client.send(new ec2.DescribeImageReferencesCommand({ ImageIds: ["ami-0123456789abcdef0"], IncludeAllResourceTypes: true })));
        assert.equal(missing.name, "InvalidAMIID.NotFound");
    });

    it("RunInstances sets LastLaunchedTime (DescribeImages and DescribeImageAttribute lastLaunchedTime)", async function () {
        const imageId = await newImage();
        const before = await client.send(new ec2.DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "lastLaunchedTime" }));
        assert.equal(before.LastLaunchedTime?.Value, undefined, "never launched");
        const start = Date.now();
        await launch(imageId);
        const after = await client.send(new ec2.DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "lastLaunchedTime" }));
        const at = Date.parse(after.LastLaunchedTime?.Value ?? "");
        assert.ok(at >= Math.floor(start / 1000) * 1000 - 1000 && at <= Date.now() + 1000, `lastLaunchedTime ${after.LastLaunchedTime?.Value}`);
        assert.equal((await describeImage(client, imageId)).LastLaunchedTime, after.LastLaunchedTime?.Value);
    });

    it("DisableImage makes an image disabled, private and hidden; EnableImage makes it available again", async function () {
        const imageId = await newImage();
        await client.send(new ec2.ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: "111122223333" }] } }));
        const disabled = await client.send(new ec2.DisableImageCommand({ ImageId: imageId }));
        assert.equal(disabled.Return, true);

        const hidden = await client.send(new ec2.DescribeImagesCommand({ Owners: ["self"] }));
        assert.ok(!(hidden.Images ?? []).some((i) => i.ImageId === imageId), "not in DescribeImages by default");
        const shown = await client.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId], IncludeDisabled: true }));
        assert.equal(shown.Images?.[0]?.State, "disabled");
        const permissions = await client.send(new ec2.DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" }));
        assert.deepEqual(permissions.LaunchPermissions ?? [], [], "a disabled AMI loses its launch permissions");

        const refused = await errorOf(launch(imageId));
        assert.equal(refused.name, "InvalidAMIID.Unavailable");

        await client.send(new ec2.EnableImageCommand({ ImageId: imageId }));
        assert.equal((await describeImage(client, imageId)).State, "available");
        assert.match(await launch(imageId), /^i-/);
    });

    it("RunInstances from a deregistered AMI fails with InvalidAMIID.NotFound, directly and through a launch template", async function () {
        const imageId = await newImage();
        const template = await client.send(
            new ec2.CreateLaunchTemplateCommand({ LaunchTemplateName: uniqueName("lt"), LaunchTemplateData: { ImageId: imageId, InstanceType: "t3.micro" } }),
        );
        assert.match(await launch(imageId), /^i-/, "launches while registered");
        await client.send(new ec2.DeregisterImageCommand({ ImageId: imageId }));

        const direct = await errorOf(launch(imageId));
        assert.equal(direct.name, "InvalidAMIID.NotFound");
        assert.match(direct.message, new RegExp(imageId));
        const viaTemplate = await errorOf(
            client.send(new ec2.RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate!.LaunchTemplateId!, Version: "$Latest" } })),
        );
        assert.equal(viaTemplate.name, "InvalidAMIID.NotFound");
    });
});
