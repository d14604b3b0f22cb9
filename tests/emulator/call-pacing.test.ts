// Extension 14 (call pacing, ext_call_pacing.py): a latency per EC2 action, and the resource
// each logged call names.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { errorOf, snapshotIds, uniqueName, waitForImageState } from "./helpers";

describe("emulator: call pacing and call targets", function () {
    let emulator: Emulator;
    const region = "us-east-1";

    before(async function () {
        emulator = await Emulator.start();
    });
    after(async function () {
        await emulator?.stop();
    });

    async function image(): Promise<ec2.Image> {
        const instanceId = await emulator.launchInstance(region);
        const made = await emulator.ec2(region).send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("paced") }));
        return waitForImageState(emulator.ec2(region), made.ImageId!, ["available"]);
    }

    it("latency: requests of a chosen action wait that long, others do not; the configuration answers it and a reset clears it", async function () {
        const { ImageId } = await image();
        await emulator.configure({ latency: { DeregisterImage: 1.5 } });
        let started = Date.now();
        await emulator.ec2(region).send(new ec2.DescribeImagesCommand({ ImageIds: [ImageId!] }));
        const describeMs = Date.now() - started;
        started = Date.now();
        await emulator.ec2(region).send(new ec2.DeregisterImageCommand({ ImageId }));
        const deregisterMs = Date.now() - started;
        assert.ok(deregisterMs >= 1500, `DeregisterImage took ${deregisterMs} ms, the latency is 1.5 s`);
        assert.ok(describeMs < 1500, `DescribeImages took ${describeMs} ms: not paced`);
        const config = (await (await fetch(`${emulator.endpoint}/_golden-ami/config`)).json()) as { latency?: unknown };
        assert.deepEqual(config.latency, { DeregisterImage: 1.5 });
        await emulator.reset();
        const after = (await (await fetch(`${emulator.endpoint}/_golden-ami/config`)).json()) as { latency?: unknown };
        assert.equal(after.latency, undefined);
    });

    it("latency: a bad value is refused (HTTP 400) and changes nothing", async function () {
        const answer = await fetch(`${emulator.endpoint}/_golden-ami/config`, { method: "POST", body: JSON.stringify({ latency: { DeregisterImage: -1 } }) });
        assert.equal(answer.status, 400);
        assert.match(((await answer.json()) as { error: string }).error, /latency\.DeregisterImage/);
    });

    it("the call log names the ImageId or SnapshotId of each call", async function () {
        const made = await image();
        const [snapshotId] = snapshotIds(made);
        await emulator.resetCalls();
        await emulator.ec2(region).send(new ec2.DeregisterImageCommand({ ImageId: made.ImageId }));
        await emulator.ec2(region).send(new ec2.DeleteSnapshotCommand({ SnapshotId: snapshotId }));
        await errorOf(emulator.ec2(region).send(new ec2.DeleteSnapshotCommand({ SnapshotId: snapshotId })));
        await emulator.ec2(region).send(new ec2.DescribeRegionsCommand({}));
        const { calls } = await emulator.calls();
        assert.deepEqual(
            calls.map((c) => [c.action, c.target, c.status]),
            [
                ["DeregisterImage", made.ImageId, 200],
                ["DeleteSnapshot", snapshotId, 200],
                ["DeleteSnapshot", snapshotId, 400],
                ["DescribeRegions", undefined, 200],
            ],
        );
    });
});
