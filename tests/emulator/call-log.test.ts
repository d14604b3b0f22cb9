// Extension 6 (call log): every EC2 call, and when each image becomes available.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator, EmulatorCall } from "../support/emulator";
import { errorOf, uniqueName, waitForImageState } from "./helpers";

function countByAction(calls: EmulatorCall[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of calls) counts[call.action] = (counts[call.action] ?? 0) + 1;
    return counts;
}

describe("emulator: call log", function () {
    let emulator: Emulator;

    before(async function () {
        emulator = await Emulator.start({ timing: { imagePending: 1, copyPending: 1 } });
    });
    after(async function () {
        await emulator?.stop();
    });

    it("records action, region (SigV4 scope), time, status; control requests are not counted", async function () {
        await emulator.resetCalls();
        const before = Date.now();
        await emulator.ec2("us-east-1").send(new ec2.DescribeRegionsCommand({}));
        await emulator.ec2("us-east-1").send(new ec2.DescribeRegionsCommand({}));
        await emulator.ec2("ap-southeast-2").send(new ec2.DescribeInstancesCommand({}));
        await errorOf(emulator.ec2("eu-west-1").send(new ec2.DescribeImagesCommand({ ImageIds: ["ami-0123456789abcdef0"] })));
        await emulator.configure({ timing: {} });
        const { calls } = await emulator.calls();

        assert.deepEqual(countByAction(calls), { DescribeRegions: 2, DescribeInstances: 1, DescribeImages: 1 });
        assert.deepEqual(calls.map((c) => c.region), ["us-east-1", "us-east-1", "ap-southeast-2", "eu-west-1"]);
        assert.deepEqual(calls.map((c) => c.status), [200, 200, 200, 400]);
        assert.ok(calls.every((c) => c.throttled === false));
        assert.ok(calls.every((c) => c.at >= before - 5 && c.at <= Date.now()), "epoch milliseconds");
        for (let i = 1; i < calls.length; i++) assert.ok(calls[i].at >= calls[i - 1].at);
    });

    it("records the access key ID that signed each call (SigV4 Authorization header)", async function () {
        await emulator.resetCalls();
        const other = new ec2.EC2Client({
            region: "us-east-1",
            endpoint: emulator.endpoint,
            credentials: { accessKeyId: "AKIAOTHERKEY0000TEST", secretAccessKey: "other" },
        });
        try {
            await emulator.ec2("us-east-1").send(new ec2.DescribeRegionsCommand({}));
            await other.send(new ec2.DescribeRegionsCommand({}));
        } finally {
            other.destroy();
        }
        const { calls } = await emulator.calls();
        // The harness's own client signs with the emulator's dummy key (the same one its env() hands to pulumi).
        assert.deepEqual(calls.map((c) => c.accessKeyId), [emulator.env().AWS_ACCESS_KEY_ID, "AKIAOTHERKEY0000TEST"]);
        assert.notEqual(emulator.env().AWS_ACCESS_KEY_ID, "AKIAOTHERKEY0000TEST");
    });

    it("records each created or copied image with kind, region, createdAt and availableAt", async function () {
        await emulator.resetCalls();
        const instanceId = await emulator.launchInstance("us-east-1");
        const east = emulator.ec2("us-east-1");
        const west = emulator.ec2("us-west-2");
        const created = await east.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("logged") }));
        const copied = await west.send(new ec2.CopyImageCommand({ SourceImageId: created.ImageId, SourceRegion: "us-east-1", Name: uniqueName("logged-copy") }));

        const { images, calls } = await emulator.calls();
        const create = images[created.ImageId!];
        const copy = images[copied.ImageId!];
        assert.equal(create.kind, "create");
        assert.equal(create.region, "us-east-1");
        assert.equal(copy.kind, "copy");
        assert.equal(copy.region, "us-west-2");
        for (const event of [create, copy]) {
            const pending = event.availableAt - event.createdAt;
            assert.ok(pending >= 990 && pending <= 1010, `about 1 s pending, got ${pending} ms`);
        }
        assert.equal(countByAction(calls).CreateImage, 1);
        assert.equal(countByAction(calls).CopyImage, 1);

        const available = await waitForImageState(west, copied.ImageId!, ["available"]);
        assert.equal(available.State, "available");
        assert.ok(Date.now() >= copy.availableAt, "available no earlier than recorded");
    });

    it("calls/reset empties the log; /moto-api/reset also restores the start-up configuration", async function () {
        await emulator.ec2("us-east-1").send(new ec2.DescribeRegionsCommand({}));
        await emulator.resetCalls();
        assert.deepEqual(await emulator.calls(), { calls: [], images: {} });

        await emulator.configure({ timing: { imagePending: 7 }, throttle: { fraction: 1 } });
        await emulator.reset();
        const config = await (await fetch(`${emulator.endpoint}/_golden-ami/config`)).json() as { timing: object; throttle: unknown; failNext: unknown[]; copyLimit: unknown };
        assert.deepEqual(config, { timing: { imagePending: 1, copyPending: 1 }, throttle: null, failNext: [], copyLimit: null });
        await emulator.ec2("us-east-1").send(new ec2.DescribeRegionsCommand({})); // not throttled any more
        const owned = await emulator.ec2("us-east-1").send(new ec2.DescribeImagesCommand({ Owners: ["self"] }));
        assert.equal(owned.Images!.length, 0, "moto state reset too");
    });
});
