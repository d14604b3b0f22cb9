// InstanceImage's create, the real provider code in this process against the EC2 emulator over
// HTTP, for what only a whole create shows: it returns only once the SLOWEST snapshot of an
// image has completed (volumes of very different sizes take very different times), it waits
// for the builder (powered off by its user data, or passing its status checks) before it
// stops and images it, an impaired builder fails it before anything is made, and each option
// (NoReboot, afterImage "running", block device overrides) reaches EC2 as asked. Assertions
// read the emulator's own records (call log, image and snapshot events), not golden-ami's words.
import * as assert from "node:assert/strict";
import { DescribeImagesCommand, DescribeInstancesCommand, Image } from "@aws-sdk/client-ec2";
import { InstanceImageOutputs } from "../../providers/lifecycle/instance-image";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator, EmulatorCall } from "../support/emulator";
import { checkedCreate, useEmulatorEnv } from "../support/provider-calls";
import { providers } from "../../providers/runtime";

const instanceImageProvider = providers.InstanceImage;

const REGION = "us-east-1";
const BUILDER_SCRIPT = "#!/bin/bash\nset -e\nyum install -y nginx\nsystemctl enable nginx\nshutdown -h now\n";
const IMAGE_TIMING = { instancePending: 0.3, instanceStopping: 0.5, imagePending: 1 };

describe("integration: InstanceImage create (emulator)", function () {
    let emulator: Emulator;
    let restoreEnv: () => void;
    let counter = 0;

    before(async function () {
        emulator = await Emulator.start({ timing: IMAGE_TIMING });
        restoreEnv = useEmulatorEnv(emulator, REGION);
    });
    after(async function () {
        restoreEnv?.();
        await emulator?.stop();
    });
    afterEach(async function () {
        await emulator.reset(); // back to IMAGE_TIMING, no queued faults, no resources
    });

    const create = (news: Record<string, unknown>) =>
        checkedCreate<InstanceImageOutputs>(instanceImageProvider, "InstanceImage", `img${++counter}`, { region: REGION, ...news });

    async function liveImage(imageId: string): Promise<Image> {
        const out = await emulator.ec2(REGION).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
        return out.Images![0];
    }

    async function instanceState(instanceId: string): Promise<string | undefined> {
        const out = await emulator.ec2(REGION).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
    }

    /** The successful calls of `action`, in order. */
    const callsOf = (calls: EmulatorCall[], action: string) => calls.filter((c) => c.action === action && c.status === 200);

    it("volumes of 8 and 300 GiB: create returns only after the slowest snapshot completed, and promptly", async function () {
        // 8 GiB: 1 + 0.03 × 8 = 1.24 s; 300 GiB: 1 + 0.03 × 300 = 10 s. The small one is the
        // image's first mapping (the root device), so a wait on the first snapshot alone ends ~9 s early.
        await emulator.configure({ timing: { snapshotSeconds: 1, snapshotSecondsPerGiB: 0.03 } });
        const instanceId = await emulator.launchInstance(REGION, { volumeSizes: [8, 300] });
        await emulator.resetCalls();
        const { id, outs } = await create({ instanceId });
        const returnedAt = Date.now();

        const { calls, images } = await emulator.calls();
        const snapshots = Object.entries(images[id].snapshots ?? {}).sort(([, a], [, b]) => a.completedAt - b.completedAt);
        assert.deepEqual(snapshots.map(([, s]) => s.volumeSize), [8, 300]);
        const [[fastId, fast], [slowId, slow]] = snapshots;
        assert.equal((await liveImage(id)).BlockDeviceMappings![0].Ebs!.SnapshotId, fastId, "the fast snapshot is the image's first");
        assert.ok(slow.completedAt - fast.completedAt >= 8_000, `the snapshots complete ${slow.completedAt - fast.completedAt} ms apart`);
        assert.ok(returnedAt >= slow.completedAt, `create returned ${slow.completedAt - returnedAt} ms before the slowest snapshot (${slowId}) completed`);
        assert.ok(returnedAt - slow.completedAt < 2_000, `create returned ${returnedAt - slow.completedAt} ms after the slowest snapshot completed (target < 2 s)`);
        assert.deepEqual([...outs.snapshotIds].sort(), [fastId, slowId].sort());
        // While only the slow snapshot was left, the wait went by its progress, not by blind polling.
        const between = calls.filter((c) => c.action.startsWith("Describe") && c.at > fast.completedAt && c.at < slow.completedAt);
        console.log(`      snapshots done ${fast.completedAt - images[id].createdAt} / ${slow.completedAt - images[id].createdAt} ms after CreateImage; ` +
            `create returned ${returnedAt - slow.completedAt} ms after the slowest; ${between.length} Describe calls in between`);
        assert.ok(between.length <= 2, `${between.length} Describe calls between the two completions: ${between.map((c) => c.action).join(", ")}`);
    });

    it('waitForBuilder "stopped": waits until the user data powers the builder off, then images it (no StopInstances)', async function () {
        await emulator.configure({ timing: { userDataSeconds: 3 } });
        const instanceId = await emulator.launchInstance(REGION, { userData: BUILDER_SCRIPT });
        const runningBy = Date.now();
        await emulator.resetCalls();
        const { id } = await create({ instanceId, waitForBuilder: "stopped" });

        const { calls } = await emulator.calls();
        const [createImage] = callsOf(calls, "CreateImage");
        assert.ok(createImage, "CreateImage was called");
        assert.deepEqual(callsOf(calls, "StopInstances"), [], "the builder stopped itself: golden-ami never stopped it");
        // The builder runs its user data for 3 s after it runs (by `runningBy`), then stops in 0.5 s.
        assert.ok(createImage.at >= runningBy + 3_000, `CreateImage ${createImage.at - runningBy} ms after the builder ran: before its user data finished`);
        const looks = calls.filter((c) => c.action === "DescribeInstances" && c.at < createImage.at);
        assert.ok(looks.length >= 2, `looked at the builder ${looks.length} times before imaging it`);
        assert.equal((await liveImage(id)).State, "available");
        assert.equal(await instanceState(instanceId), "stopped");
    });

    it('waitForBuilder "status-ok": waits out initializing status checks, then stops and images the builder', async function () {
        await emulator.configure({ timing: { statusInitializing: 3 } });
        const instanceId = await emulator.launchInstance(REGION);
        const runningBy = Date.now();
        await emulator.resetCalls();
        const { id } = await create({ instanceId, waitForBuilder: "status-ok" });

        const { calls } = await emulator.calls();
        const statusLooks = callsOf(calls, "DescribeInstanceStatus");
        const [stop] = callsOf(calls, "StopInstances");
        const [createImage] = callsOf(calls, "CreateImage");
        assert.ok(statusLooks.length >= 2, `${statusLooks.length} DescribeInstanceStatus calls`);
        assert.ok(stop && createImage, `calls: ${calls.map((c) => c.action).join(", ")}`);
        assert.ok(stop.at >= runningBy + 2_900, `StopInstances ${stop.at - runningBy} ms after the builder ran, while its checks were initializing (3 s)`);
        assert.ok(statusLooks[statusLooks.length - 1].at < stop.at && stop.at < createImage.at, "status checks, then stop, then CreateImage");
        assert.equal((await liveImage(id)).State, "available");
    });

    it("an impaired builder: create fails with the status checks' verdict before anything is stopped or made", async function () {
        const baseline = await inventory(emulator, [REGION]);
        await emulator.configure({ timing: { statusInitializing: 1 }, failNext: { kind: "status" } });
        const instanceId = await emulator.launchInstance(REGION);
        await emulator.resetCalls();
        const err = await create({ instanceId, waitForBuilder: "status-ok" }).then(
            () => assert.fail("create succeeded with an impaired builder"),
            (e: Error) => e,
        );
        console.log(`      ${err.message}`);
        assert.ok(!(err instanceof PartialCreateError), "nothing to record in state");
        assert.ok(
            err.message.startsWith(
                `golden-ami: gave up waiting for builder ${instanceId} in ${REGION} to pass its status checks: status checks failed (system ok, instance impaired)`,
            ),
            err.message,
        );
        assert.match(err.message, /Last console output:\n/, "the error shows the console tail");
        const { calls } = await emulator.calls();
        assert.deepEqual(calls.filter((c) => ["StopInstances", "CreateImage"].includes(c.action)).map((c) => c.action), []);
        assert.equal(await instanceState(instanceId), "running", "the builder is left as it was, for inspection");
        assert.equal(leakCount(await leakedSince(emulator, baseline, [REGION])), 0);
    });

    it("stopBeforeImage false: CreateImage with NoReboot, the instance is never stopped and stays running", async function () {
        const instanceId = await emulator.launchInstance(REGION);
        await emulator.resetCalls();
        const { id } = await create({ instanceId, stopBeforeImage: false });
        const { calls, images } = await emulator.calls();
        assert.equal(images[id].noReboot, true, "the CreateImage request had NoReboot=true");
        assert.deepEqual(callsOf(calls, "StopInstances"), []);
        assert.equal(await instanceState(instanceId), "running");

        // The default, for contrast: stopped first, NoReboot=false.
        const other = await emulator.launchInstance(REGION);
        const { id: stoppedImage } = await create({ instanceId: other });
        assert.equal((await emulator.calls()).images[stoppedImage].noReboot, false);
        assert.equal(await instanceState(other), "stopped");
    });

    it('afterImage "running": stopped for the image, started again once the image is available', async function () {
        const instanceId = await emulator.launchInstance(REGION);
        await emulator.resetCalls();
        const { id } = await create({ instanceId, afterImage: "running" });
        const { calls, images } = await emulator.calls();
        const [stop] = callsOf(calls, "StopInstances");
        const [createImage] = callsOf(calls, "CreateImage");
        const [start] = callsOf(calls, "StartInstances");
        assert.ok(stop && createImage && start, `calls: ${calls.map((c) => c.action).join(", ")}`);
        assert.ok(stop.at < createImage.at, "stopped before CreateImage");
        assert.ok(start.at >= images[id].availableAt, `started ${images[id].availableAt - start.at} ms before the image was available`);
        assert.equal(await instanceState(instanceId), "running");
    });

    it("blockDeviceMappings: the image has the volumes as asked (resized, retyped, left out)", async function () {
        const instanceId = await emulator.launchInstance(REGION, { volumeSizes: [8, 20, 30] });
        const root = (await emulator.ec2(REGION).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0].RootDeviceName!;
        const { id, outs } = await create({
            instanceId,
            blockDeviceMappings: [
                { deviceName: root, volumeSize: 16 },
                { deviceName: "/dev/sdf", noDevice: true },
                { deviceName: "/dev/sdg", volumeType: "io1", iops: 3000, deleteOnTermination: false },
            ],
        });
        const live = (await liveImage(id)).BlockDeviceMappings!;
        const asked = (m: { DeviceName?: string; Ebs?: { VolumeSize?: number; VolumeType?: string; Iops?: number; DeleteOnTermination?: boolean } }) =>
            [m.DeviceName, m.Ebs?.VolumeSize, m.Ebs?.VolumeType, m.Ebs?.Iops, m.Ebs?.DeleteOnTermination];
        assert.deepEqual(live.map(asked).sort(), [
            [root, 16, "gp3", 3000, true], // gp3 as launched, with gp3's baseline IOPS
            ["/dev/sdg", 30, "io1", 3000, false],
        ].sort());
        assert.equal(Object.keys((await emulator.calls()).images[id].snapshots ?? {}).length, 2, "no snapshot of the left-out volume");
        assert.deepEqual(
            outs.blockDeviceMappings.map((m) => [m.deviceName, m.volumeSize, m.volumeType]).sort(),
            [[root, 16, "gp3"], ["/dev/sdg", 30, "io1"]].sort(),
            "the outputs report the image's mappings",
        );
    });
});
