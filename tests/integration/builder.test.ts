// The Builder's provider in this process against the EC2 emulator (builders run their user
// data: tests/emulator/ext_instances.py): what RunInstances is asked for, the ClientToken
// that makes a retried create launch nothing, a terminated builder of the same recipe stepped
// over, and each way a customisation fails (failure marker, self-termination, impaired status
// checks, timeout) reported with the console tail and the builder terminated. Assertions read
// the emulator's own records (instances, volumes, call log).
import * as assert from "node:assert/strict";
import { CreateImageCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeVolumesCommand, Instance } from "@aws-sdk/client-ec2";
import { MANAGED_BY_VALUE, MARKER_TAGS, builderClientToken } from "../../providers/core/naming";
import { launchBuilder } from "../../providers/ec2/builder-instance";
import { verifyImage, VerificationFailedError } from "../../providers/ec2/verification";
import { BuilderState } from "../../providers/lifecycle/builder";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { providers } from "../../providers/runtime";
import { Emulator } from "../support/emulator";
import { checkedCreate, useEmulatorEnv } from "../support/provider-calls";

const builderProvider = providers.Builder;
const REGION = "us-east-1";
const GOOD = "#!/bin/bash\nset -e\necho 'installing nginx'\nshutdown -h now\n";

describe("integration: Builder (emulator)", function () {
    let emulator: Emulator;
    let restoreEnv: () => void;
    let baseImageId: string;
    let counter = 0;

    before(async function () {
        emulator = await Emulator.start({ timing: { instancePending: 0.3, userDataSeconds: 0.5, instanceStopping: 0.3, instanceTerminating: 0.3 } });
        restoreEnv = useEmulatorEnv(emulator, REGION);
        const images = await emulator.ec2(REGION).send(new DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }] }));
        baseImageId = images.Images![0].ImageId!;
    });
    after(async function () {
        restoreEnv?.();
        await emulator?.stop();
    });

    const create = (news: Record<string, unknown>, name = `b${++counter}`) =>
        checkedCreate<BuilderState>(builderProvider, "Builder", name, { region: REGION, baseImageId, ...news });

    async function instance(id: string): Promise<Instance> {
        return (await emulator.ec2(REGION).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
    }

    async function ofResource(name: string): Promise<Instance[]> {
        const out = await emulator.ec2(REGION).send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:golden-ami:builder", Values: [name] }] }));
        return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    }

    it("launches with IMDSv2 required, an encrypted root, extra volumes, tags on instance and volumes; ready once it powered itself off", async function () {
        const { id, outs } = await create({ userData: GOOD, tags: { team: "platform" }, volumes: [{ deviceName: "/dev/sdf", sizeGiB: 20, type: "gp3" }] }, "web-builder");
        const live = await instance(id);
        assert.equal(live.State?.Name, "stopped", "create returns once the customisation powered the builder off");
        assert.equal(live.MetadataOptions?.HttpTokens, "required");
        const tags = Object.fromEntries((live.Tags ?? []).map((t) => [t.Key, t.Value]));
        assert.deepEqual(tags, { Name: "web-builder", team: "platform", "golden-ami:managed-by": "golden-ami", "golden-ami:builder": "web-builder" });
        const volumes = (await emulator.ec2(REGION).send(new DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [id] }] }))).Volumes ?? [];
        assert.equal(volumes.length, 2);
        assert.ok(volumes.every((v) => v.Encrypted), "root and extra volume encrypted by default");
        const base = (await emulator.ec2(REGION).send(new DescribeImagesCommand({ ImageIds: [baseImageId] }))).Images![0];
        const rootSize = base.BlockDeviceMappings!.find((m) => m.DeviceName === base.RootDeviceName)!.Ebs!.VolumeSize!;
        const sizes = Object.fromEntries(volumes.map((v) => [v.Attachments![0].Device, v.Size]));
        assert.deepEqual(sizes, { [base.RootDeviceName!]: rootSize, "/dev/sdf": 20 }, "the root as large as the base image's, the extra volume as asked");
        assert.ok(volumes.every((v) => v.Tags?.some((t) => t.Key === "team" && t.Value === "platform")), "the volumes carry the tags");
        assert.equal(outs.instanceId, id);
        assert.match(outs.clientToken, /^golden-ami-b-[0-9a-f]{40}$/);
        await builderProvider.delete!(id, outs);
        assert.equal((await instance(id)).State?.Name, "terminated", "delete terminates");
    });

    it("a retried create launches nothing (same ClientToken); once that builder is terminated, the same recipe gets a new one", async function () {
        await emulator.resetCalls();
        const first = await create({ userData: GOOD }, "retry-builder");
        const again = await create({ userData: GOOD }, "retry-builder");
        assert.equal(again.id, first.id);
        const runs = (await emulator.calls()).calls.filter((c) => c.action === "RunInstances" && c.status === 200);
        assert.equal(runs.length, 1, "the retry found the builder by its token before launching");
        await builderProvider.delete!(first.id, first.outs);
        const next = await create({ userData: GOOD }, "retry-builder");
        assert.notEqual(next.id, first.id, "a terminated builder's token is stepped over");
        assert.notEqual(next.outs.clientToken, first.outs.clientToken);
        await builderProvider.delete!(next.id, next.outs);
    });

    const failures: Array<[string, Record<string, unknown>, RegExp, (() => Promise<void>)?]> = [
        ["powers off with the failure marker", { userData: "#!/bin/bash\nset -e\ntrap 'echo GOLDEN-AMI-FAILED; shutdown -h now' ERR\necho step-one\nexit 4\n" }, /GOLDEN-AMI-FAILED in its console output[\s\S]*step-one[\s\S]*\[4\]/],
        ["terminates itself", { userData: "#!/bin/bash\necho giving-up\naws ec2 terminate-instances --instance-ids $(ec2-metadata -i)\n" }, /instance i-[0-9a-f]+ is (shutting-down|terminated)[\s\S]*Last console output:[\s\S]*giving-up/],
        ["runs out of time", { userData: "#!/bin/bash\necho waiting-forever\nsleep 3600\nshutdown -h now\n", provisioningTimeoutMinutes: 0.05 }, /was not ready \(powered off\) within 3 s[\s\S]*Last console output/],
    ];
    for (const [what, inputs, says] of failures) {
        it(`a customisation that ${what}: the error shows the console tail and the builder is terminated`, async function () {
            const name = `fail-${counter++}`;
            const err = await create(inputs, name).then(() => assert.fail("create succeeded"), (e: Error) => e);
            assert.ok(!(err instanceof PartialCreateError), "nothing left to record");
            assert.match(err.message, says);
            assert.deepEqual((await ofResource(name)).map((i) => i.State?.Name), ["terminated"]);
        });
    }

    it("status-ok with status checks failing for the base image: the error names the check, the builder is terminated", async function () {
        await emulator.configure({ statusFailures: { [baseImageId]: "instance" } });
        try {
            const err = await create({}, "impaired-builder").then(() => assert.fail("create succeeded"), (e: Error) => e);
            assert.match(err.message, /status checks failed \(system ok, instance impaired\)[\s\S]*Last console output/);
            assert.deepEqual((await ofResource("impaired-builder")).map((i) => i.State?.Name), ["terminated"]);
        } finally {
            await emulator.configure({ statusFailures: { [baseImageId]: null } });
        }
    });

    it("verifyImage judged by status checks: passes, or fails naming the check for an image whose instances are impaired; the test instance is terminated either way", async function () {
        const source = await emulator.launchInstance(REGION);
        const imageId = (await emulator.ec2(REGION).send(new CreateImageCommand({ InstanceId: source, Name: `verify-${Date.now()}` }))).ImageId!;
        const testInstances = async () => {
            const out = await emulator.ec2(REGION).send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:golden-ami:verifies", Values: [imageId] }] }));
            return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
        };
        await verifyImage(REGION, imageId, "web", {}, {});
        assert.deepEqual((await testInstances()).map((i) => i.State?.Name), ["terminated"]);

        await emulator.configure({ statusFailures: { [imageId]: "system" } });
        try {
            const err = await verifyImage(REGION, imageId, "web", { instanceType: "t3.small" }, {}).then(() => assert.fail("verified"), (e: Error) => e);
            assert.ok(err instanceof VerificationFailedError);
            assert.match(err.message, new RegExp(`image ${imageId} failed its verification[\\s\\S]*system impaired[\\s\\S]*Last console output`));
            assert.deepEqual((await testInstances()).map((i) => i.State?.Name), ["terminated", "terminated"]);
        } finally {
            await emulator.configure({ statusFailures: { [imageId]: null } });
        }
    });

    it("verifyImage ends a killed run's test instance of the same image that its token does not find (the verify settings changed)", async function () {
        const source = await emulator.launchInstance(REGION);
        const imageId = (await emulator.ec2(REGION).send(new CreateImageCommand({ InstanceId: source, Name: `verify-stale-${Date.now()}` }))).ImageId!;
        // What a run killed mid-test leaves: a test instance of this image, launched with other settings' token.
        const { instance: stale } = await launchBuilder(
            REGION,
            builderClientToken({ verifies: imageId, settings: { instanceType: "t3.small" } }),
            { baseImageId: imageId, instanceType: "t3.small", rootVolume: { encrypted: true }, volumes: [], tags: { [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.verifies]: imageId } },
            () => undefined,
        );
        await verifyImage(REGION, imageId, "web", {}, {});
        const out = await emulator.ec2(REGION).send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:golden-ami:verifies", Values: [imageId] }] }));
        const all = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
        assert.equal(all.length, 2, "the stale one and this run's");
        assert.deepEqual(all.map((i) => i.State?.Name), ["terminated", "terminated"]);
        assert.ok(all.some((i) => i.InstanceId === stale.InstanceId));
    });
});
