// providers/ec2/builder-instance.ts: launching a builder, against a stubbed EC2 client that
// records every call — the base image look, the block devices, RunInstances as sent (IMDSv2,
// encrypted volumes, shutdown "stop", tags, the token), the builder an earlier run launched
// found by token, tokens bound to terminated builders stepped over, and the builder's tags.
import * as assert from "node:assert/strict";
import type { Image, Instance } from "@aws-sdk/client-ec2";
import { MANAGED_BY_VALUE, MARKER_TAGS, nextClientToken } from "../../providers/core/naming";
import { BuilderLaunch, builderBlockDevices, describeBaseImage, findByClientToken, launchBuilder, updateInstanceTags } from "../../providers/ec2/builder-instance";
import { awsError, Ec2Handler, RecordedCall, assertStartsWith, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const BASE = "ami-0base0000000000001";
const TOKEN = "golden-ami-b-token";
const BASE_IMAGE: Image = {
    ImageId: BASE,
    RootDeviceName: "/dev/sda1",
    BlockDeviceMappings: [{ DeviceName: "/dev/sdb", Ebs: { VolumeSize: 100 } }, { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 30 } }],
};
const LAUNCH: BuilderLaunch = {
    baseImageId: BASE,
    instanceType: "t3.small",
    rootVolume: { encrypted: true },
    volumes: [],
    tags: { Name: "web-builder", [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE },
};


describe("builder instances (providers/ec2/builder-instance.ts)", function () {
    let calls: RecordedCall[];
    let restore: (() => void) | undefined;
    let said: string[];
    const stub = (handler: Ec2Handler) => {
        const s = stubEc2(REGION, handler);
        calls = s.calls;
        restore = s.restore;
    };
    beforeEach(() => { said = []; });
    afterEach(() => restore?.());
    const progress = (m: string) => { said.push(m); };

    /** EC2 where `byToken` answers DescribeInstances by client token and RunInstances answers `launched` (per token). */
    function ec2(byToken: Record<string, Instance | undefined> = {}, launched: (token: string) => Instance | undefined = () => ({ InstanceId: "i-new", State: { Name: "pending" } })) {
        stub((action, input) => {
            if (action === "DescribeInstances") {
                const token = input.Filters.find((f: { Name: string }) => f.Name === "client-token").Values[0];
                const found = byToken[token];
                return { Reservations: found ? [{ Instances: [found] }] : [] };
            }
            if (action === "DescribeImages") return { Images: [BASE_IMAGE] };
            if (action === "RunInstances") {
                const instance = launched(input.ClientToken);
                return { Instances: instance ? [instance] : [] };
            }
            return {};
        });
    }
    const run = () => calls.find((c) => c.action === "RunInstances")!.input;

    describe("describeBaseImage", function () {
        it("describes the image, deprecated ones included", async function () {
            stub(() => ({ Images: [BASE_IMAGE] }));
            assert.equal(await describeBaseImage(REGION, BASE), BASE_IMAGE);
            assert.deepEqual(calls[0].input, { ImageIds: [BASE], IncludeDeprecated: true });
        });

        it("an image that does not exist: an error naming it, with what to do", async function () {
            stub(() => ({ Images: [] }));
            const err = await rejection(describeBaseImage(REGION, BASE));
            assert.equal(err.message, `golden-ami: base image ${BASE} does not exist in ${REGION}. What to do: check baseImageId (an AMI of this region), or use a lookup (baseImage).`);
            assert.equal((err as unknown as { code: string }).code, "InvalidAMIID.NotFound");
            stub(() => ({}));
            assert.match((await rejection(describeBaseImage(REGION, BASE))).message, /does not exist/);
        });

        it("a failed look names the image", async function () {
            stub(() => { throw awsError("UnauthorizedOperation", "no"); });
            assertStartsWith((await rejection(describeBaseImage(REGION, BASE))).message, `golden-ami: describing base image ${BASE} in ${REGION} failed: UnauthorizedOperation: no.`);
        });
    });

    describe("builderBlockDevices", function () {
        it("the root at the base image's root device, sized as its snapshot unless given, then the volumes; all deleted on termination", function () {
            const devices = builderBlockDevices(BASE_IMAGE, {
                rootVolume: { encrypted: true, kmsKeyId: "alias/k", type: "gp3", iops: 4000, throughput: 250 },
                volumes: [{ deviceName: "/dev/sdf", sizeGiB: 50, type: "io2", encrypted: false, kmsKeyId: "ignored", iops: 1000 }],
            });
            assert.deepEqual(devices, [
                { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 30, VolumeType: "gp3", Encrypted: true, KmsKeyId: "alias/k", Iops: 4000, Throughput: 250, DeleteOnTermination: true } },
                { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 50, VolumeType: "io2", Encrypted: false, KmsKeyId: undefined, Iops: 1000, Throughput: undefined, DeleteOnTermination: true } },
            ]);
        });

        it("a root size given wins; a base image without a root device or sizes: /dev/xvda, 8 GiB", function () {
            assert.equal(builderBlockDevices(BASE_IMAGE, { rootVolume: { encrypted: true, sizeGiB: 64 }, volumes: [] })[0].Ebs!.VolumeSize, 64);
            const bare = builderBlockDevices({ ImageId: BASE }, { rootVolume: { encrypted: true }, volumes: [] });
            assert.equal(bare[0].DeviceName, "/dev/xvda");
            assert.equal(bare[0].Ebs!.VolumeSize, 8);
            const noRootMapping = builderBlockDevices({ ImageId: BASE, RootDeviceName: "/dev/xvda", BlockDeviceMappings: [{ DeviceName: "/dev/sdb", Ebs: { VolumeSize: 100 } }] }, { rootVolume: { encrypted: true }, volumes: [] });
            assert.equal(noRootMapping[0].Ebs!.VolumeSize, 8, "no mapping at the root device");
            const noEbs = builderBlockDevices({ ImageId: BASE, RootDeviceName: "/dev/xvda", BlockDeviceMappings: [{ DeviceName: "/dev/xvda", VirtualName: "ephemeral0" }] }, { rootVolume: { encrypted: true }, volumes: [] });
            assert.equal(noEbs[0].Ebs!.VolumeSize, 8, "a root mapping without Ebs");
            const noSize = builderBlockDevices({ ImageId: BASE, RootDeviceName: "/dev/xvda", BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: {} }] }, { rootVolume: { encrypted: true }, volumes: [] });
            assert.equal(noSize[0].Ebs!.VolumeSize, 8);
        });
    });

    describe("findByClientToken", function () {
        it("asks by token and golden-ami's marker; the first instance, or undefined", async function () {
            ec2({ [TOKEN]: { InstanceId: "i-1", State: { Name: "running" } } });
            assert.equal((await findByClientToken(REGION, TOKEN))?.InstanceId, "i-1");
            assert.deepEqual(calls[0].input, { Filters: [{ Name: "client-token", Values: [TOKEN] }, { Name: `tag:${MARKER_TAGS.managedBy}`, Values: [MANAGED_BY_VALUE] }] });
            assert.equal(await findByClientToken(REGION, "other"), undefined);
            stub(() => ({ Reservations: [{}] }));
            assert.equal(await findByClientToken(REGION, TOKEN), undefined);
            stub(() => ({}));
            assert.equal(await findByClientToken(REGION, TOKEN), undefined);
        });

        it("a failed look names the token", async function () {
            stub(() => { throw awsError("RequestLimitExceeded", "slow"); });
            assertStartsWith((await rejection(findByClientToken(REGION, TOKEN))).message, `golden-ami: looking for the builder of client token ${TOKEN} in ${REGION} failed: RequestLimitExceeded: slow.`);
        });
    });

    describe("launchBuilder", function () {
        it("launches one instance as configured: IMDSv2, shutdown stop, tags on instance and volumes, the token", async function () {
            ec2();
            const out = await launchBuilder(REGION, TOKEN, {
                ...LAUNCH, subnetId: "subnet-1", securityGroupIds: ["sg-1"], iamInstanceProfile: "builder-profile", keyName: "k", userData: "#!/bin/sh\necho hé",
            }, progress);
            assert.deepEqual(out, { instance: { InstanceId: "i-new", State: { Name: "pending" } }, clientToken: TOKEN, adopted: false });
            const tags = [{ Key: "Name", Value: "web-builder" }, { Key: MARKER_TAGS.managedBy, Value: MANAGED_BY_VALUE }];
            assert.deepEqual(run(), {
                ImageId: BASE,
                InstanceType: "t3.small",
                MinCount: 1,
                MaxCount: 1,
                ClientToken: TOKEN,
                SubnetId: "subnet-1",
                SecurityGroupIds: ["sg-1"],
                IamInstanceProfile: { Name: "builder-profile" },
                KeyName: "k",
                UserData: Buffer.from("#!/bin/sh\necho hé", "utf8").toString("base64"),
                InstanceInitiatedShutdownBehavior: "stop",
                MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled" },
                BlockDeviceMappings: builderBlockDevices(BASE_IMAGE, LAUNCH),
                TagSpecifications: [{ ResourceType: "instance", Tags: tags }, { ResourceType: "volume", Tags: tags }],
            });
            assert.deepEqual(said, [`launched builder i-new from ${BASE}`]);
        });

        it("an instance profile ARN is passed as an ARN; no groups, profile or user data: none sent", async function () {
            ec2();
            await launchBuilder(REGION, TOKEN, { ...LAUNCH, iamInstanceProfile: "arn:aws:iam::123456789012:instance-profile/b", securityGroupIds: [] }, progress, "test instance");
            assert.deepEqual(run().IamInstanceProfile, { Arn: "arn:aws:iam::123456789012:instance-profile/b" });
            assert.equal(run().SecurityGroupIds, undefined);
            assert.equal(run().UserData, undefined);
            assert.deepEqual(said, [`launched test instance i-new from ${BASE}`]);
            calls.length = 0;
            await launchBuilder(REGION, "t2", LAUNCH, progress);
            assert.equal(run().IamInstanceProfile, undefined);
            assert.equal(run().SecurityGroupIds, undefined);
            assert.equal(run().UserData, undefined);
        });

        it("empty user data is sent (empty), not left out", async function () {
            ec2();
            await launchBuilder(REGION, TOKEN, { ...LAUNCH, userData: "" }, progress);
            assert.equal(run().UserData, "");
        });

        for (const state of ["pending", "running", "stopping", "stopped"]) {
            it(`the builder an earlier run launched (${state}), found by token: resumed, nothing launched`, async function () {
                const earlier = { InstanceId: "i-earlier", State: { Name: state } } as Instance;
                ec2({ [TOKEN]: earlier });
                assert.deepEqual(await launchBuilder(REGION, TOKEN, LAUNCH, progress, "test instance"), { instance: earlier, clientToken: TOKEN, adopted: true });
                assert.deepEqual(calls.map((c) => c.action), ["DescribeInstances"]);
                assert.deepEqual(said, [`found test instance i-earlier from an earlier run (${state}); resuming`]);
            });
        }

        it("a token bound to a terminated builder: the next token, derived from it, launches", async function () {
            const next = nextClientToken(TOKEN, "i-dead");
            ec2({ [TOKEN]: { InstanceId: "i-dead", State: { Name: "terminated" } } });
            const out = await launchBuilder(REGION, TOKEN, LAUNCH, progress);
            assert.equal(out.clientToken, next);
            assert.equal(run().ClientToken, next);
            assert.deepEqual(calls.map((c) => c.action), ["DescribeInstances", "DescribeInstances", "DescribeImages", "RunInstances"]);
        });

        it("RunInstances answering a terminated instance our look did not see: stepped over too", async function () {
            const next = nextClientToken(TOKEN, "i-untagged");
            ec2({}, (token) => (token === TOKEN ? { InstanceId: "i-untagged", State: { Name: "shutting-down" } } : { InstanceId: "i-fresh", State: { Name: "pending" } }));
            const out = await launchBuilder(REGION, TOKEN, LAUNCH, progress);
            assert.deepEqual([out.instance.InstanceId, out.clientToken, out.adopted], ["i-fresh", next, false]);
        });

        it("twenty stale tokens: TooManyBuilders, with what to do", async function () {
            let n = 0;
            stub((action) => (action === "DescribeInstances" ? { Reservations: [{ Instances: [{ InstanceId: `i-dead${n++}`, State: { Name: "terminated" } }] }] } : {}));
            const err = await rejection(launchBuilder(REGION, TOKEN, LAUNCH, progress));
            assert.equal((err as unknown as { code: string }).code, "TooManyBuilders");
            assert.equal(err.message, `golden-ami: 20 builders of this recipe were launched and terminated before in ${REGION}; giving up. What to do: change the recipe (e.g. the tags of the builder are not enough: the user data or instance type) or wait a day for EC2 to forget the tokens.`);
            assert.equal(calls.length, 20);
        });

        it("RunInstances answering no instance: NoInstance", async function () {
            ec2({}, () => undefined);
            const err = await rejection(launchBuilder(REGION, TOKEN, LAUNCH, progress));
            assert.equal(err.message, `golden-ami: RunInstances in ${REGION} answered no instance. What to do: run \`pulumi up\` again.`);
            assert.equal((err as unknown as { code: string }).code, "NoInstance");
            ec2({}, () => ({ State: { Name: "pending" } }));
            assert.equal(((await rejection(launchBuilder(REGION, TOKEN, LAUNCH, progress))) as unknown as { code: string }).code, "NoInstance");
        });

        it("a refused launch names what was launched from what", async function () {
            stub((action) => {
                if (action === "RunInstances") throw awsError("InsufficientInstanceCapacity", "none left");
                return action === "DescribeImages" ? { Images: [BASE_IMAGE] } : {};
            });
            assertStartsWith((await rejection(launchBuilder(REGION, TOKEN, LAUNCH, progress, "test instance"))).message,
                `golden-ami: launching a test instance from ${BASE} in ${REGION} failed: InsufficientInstanceCapacity: none left.`);
        });
    });

    describe("updateInstanceTags", function () {
        it("deletes the removed keys and sets the changed ones: exactly the difference", async function () {
            stub(() => ({}));
            await updateInstanceTags(REGION, "i-1", { a: "1", b: "2", c: "3" }, { a: "1", b: "two", d: "4" });
            assert.deepEqual(calls.map((c) => [c.action, c.input]), [
                ["DeleteTags", { Resources: ["i-1"], Tags: [{ Key: "c" }] }],
                ["CreateTags", { Resources: ["i-1"], Tags: [{ Key: "b", Value: "two" }, { Key: "d", Value: "4" }] }],
            ]);
        });

        it("no difference, no call; a failure names the builder", async function () {
            stub(() => { throw awsError("UnauthorizedOperation", "no"); });
            await updateInstanceTags(REGION, "i-1", { a: "1" }, { a: "1" });
            assert.equal(calls.length, 0);
            assertStartsWith((await rejection(updateInstanceTags(REGION, "i-1", {}, { a: "1" }))).message, `golden-ami: updating the tags of builder i-1 in ${REGION} failed: UnauthorizedOperation: no.`);
        });
    });
});
