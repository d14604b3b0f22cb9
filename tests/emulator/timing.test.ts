// Extension 1 (time): instances, images and snapshots take time, as in AWS.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator, pollUntil } from "../support/emulator";
import { describeImage, describeSnapshot, instanceState, snapshotIds, uniqueName, waitForImageState } from "./helpers";

const REGION = "us-east-1";

describe("emulator: timing", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;

    before(async function () {
        emulator = await Emulator.start({ timing: { instancePending: 0.5 } });
        client = emulator.ec2(REGION);
    });
    after(async function () {
        await emulator?.stop();
    });

    it("defaults to moto's instant behaviour when no timing is configured", async function () {
        await emulator.configure({ timing: { instancePending: 0 } });
        try {
            const instanceId = await emulator.launchInstance(REGION);
            const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("instant") }));
            const image = await describeImage(client, ImageId!);
            assert.equal(image.State, "available");
            const snapshot = await describeSnapshot(client, snapshotIds(image)[0]);
            assert.equal(snapshot.State, "completed");
            assert.equal(snapshot.Progress, "100%");
        } finally {
            await emulator.configure({ timing: { instancePending: 0.5 } });
        }
    });

    it("RunInstances: pending, then running (timing given at start-up)", async function () {
        const images = await client.send(new ec2.DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }] }));
        const run = await client.send(new ec2.RunInstancesCommand({ ImageId: images.Images![0].ImageId, MinCount: 1, MaxCount: 1 }));
        const instanceId = run.Instances![0].InstanceId!;
        assert.equal(await instanceState(client, instanceId), "pending");
        const started = Date.now();
        await pollUntil(() => instanceState(client, instanceId), (s) => s === "running", { what: "running" });
        assert.ok(Date.now() - started >= 250, "pending lasted about instancePending seconds");
    });

    it("StopInstances: stopping, then stopped; StartInstances: pending, then running", async function () {
        // 3 s each: the calls below must land inside the stopping / pending window, also on a
        // machine busy with other test files (with 0.7 s, a slow StartInstances found it stopped).
        await emulator.configure({ timing: { instanceStopping: 3, instanceStarting: 3 } });
        const instanceId = await emulator.launchInstance(REGION);

        const stop = await client.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
        assert.equal(stop.StoppingInstances?.[0].CurrentState?.Name, "stopping");
        assert.equal(await instanceState(client, instanceId), "stopping");
        // AWS refuses to start an instance that is still stopping.
        await assert.rejects(
            client.send(new ec2.StartInstancesCommand({ InstanceIds: [instanceId] })),
            (e: Error) => e.name === "IncorrectInstanceState",
        );
        await pollUntil(() => instanceState(client, instanceId), (s) => s === "stopped", { what: "stopped" });

        await client.send(new ec2.StartInstancesCommand({ InstanceIds: [instanceId] }));
        assert.equal(await instanceState(client, instanceId), "pending");
        await pollUntil(() => instanceState(client, instanceId), (s) => s === "running", { what: "running" });
    });

    it("CreateImage: image pending, snapshot progress rising, then completed and available", async function () {
        await emulator.configure({ timing: { imagePending: 1.5 } });
        const instanceId = await emulator.launchInstance(REGION);
        const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("timed") }));
        const first = await describeImage(client, ImageId!);
        assert.equal(first.State, "pending");
        const snapshotId = snapshotIds(first)[0];
        assert.ok(snapshotId, "the pending image already lists its snapshot");

        const progress: number[] = [];
        const final = await pollUntil(
            async () => {
                const [image, snapshot] = await Promise.all([describeImage(client, ImageId!), describeSnapshot(client, snapshotId)]);
                progress.push(Number.parseInt(snapshot.Progress ?? "", 10));
                if (image.State === "available") assert.equal(snapshot.State, "completed", "available only once snapshots are completed");
                if (snapshot.State === "pending") assert.equal(image.State, "pending");
                return { image, snapshot };
            },
            ({ image }) => image.State === "available",
            { intervalMs: 150, what: "image available" },
        );
        assert.equal(final.snapshot.Progress, "100%");
        assert.ok(progress.some((p) => p > 0 && p < 100), `intermediate progress seen: ${progress.join(",")}`);
        for (let i = 1; i < progress.length; i++) assert.ok(progress[i] >= progress[i - 1], `progress never falls: ${progress.join(",")}`);
    });

    it("a snapshot's StartTime is the moment it started, to the millisecond (as EC2 reports it); progress is measured from it", async function () {
        await emulator.configure({ timing: { imagePending: 2 } });
        const instanceId = await emulator.launchInstance(REGION);
        const before = Date.now();
        const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("start-time") }));
        const after = Date.now();
        const snapshot = await describeSnapshot(client, snapshotIds(await describeImage(client, ImageId!))[0]);
        const started = snapshot.StartTime!.getTime();
        assert.ok(started >= before - 1 && started <= after, `StartTime ${snapshot.StartTime!.toISOString()} within the CreateImage call`);
        // moto writes every time as "…:ss.000Z"; a millisecond-exact start almost never is.
        const raw = await emulator.ec2(REGION).send(new ec2.DescribeSnapshotsCommand({ SnapshotIds: [snapshot.SnapshotId!] }));
        assert.equal(raw.Snapshots![0].StartTime!.getTime(), started);
        const progress = Number.parseInt(snapshot.Progress!, 10);
        const expected = Math.floor(((Date.now() - started) / 2000) * 100);
        assert.ok(progress <= expected && progress >= expected - 10, `progress ${progress}% ~ elapsed since StartTime (${expected}%)`);
    });

    it("a new image's snapshots are found by their description (what EC2 writes: the image ID), before describing the image", async function () {
        await emulator.configure({ timing: { imagePending: 2 } });
        const instanceId = await emulator.launchInstance(REGION);
        const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("by-description") }));
        const other = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("other") }));
        const found = await client.send(new ec2.DescribeSnapshotsCommand({
            OwnerIds: ["self"],
            Filters: [{ Name: "description", Values: [`Created by CreateImage(*) for ${ImageId}*`, `Copied for DestinationAmi ${ImageId} *`] }],
        }));
        const image = await describeImage(client, ImageId!);
        assert.deepEqual(found.Snapshots!.map((s) => s.SnapshotId).sort(), snapshotIds(image).sort());
        assert.ok(!found.Snapshots!.some((s) => s.Description!.includes(other.ImageId!)));
        assert.match(found.Snapshots![0].Description!, new RegExp(`^Created by CreateImage\\(${instanceId}\\) for ${ImageId} from vol-`));
    });

    it("an image stays pending until its slowest snapshot completes (snapshotSeconds)", async function () {
        await emulator.configure({ timing: { imagePending: 0.2, snapshotSeconds: 1.2 } });
        try {
            const instanceId = await emulator.launchInstance(REGION);
            const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("slow-snap") }));
            await new Promise((r) => setTimeout(r, 500)); // past imagePending, well before snapshotSeconds
            const image = await describeImage(client, ImageId!);
            assert.equal(image.State, "pending");
            assert.equal((await describeSnapshot(client, snapshotIds(image)[0])).State, "pending");
            await waitForImageState(client, ImageId!, ["available"]);
        } finally {
            await emulator.configure({ timing: { snapshotSeconds: null } });
        }
    });

    it("CopyImage and RegisterImage: pending, then available", async function () {
        await emulator.configure({ timing: { imagePending: 0.7, copyPending: 0.7 } });
        const instanceId = await emulator.launchInstance(REGION);
        const { ImageId: sourceId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("src") }));
        await waitForImageState(client, sourceId!, ["available"]);

        const { ImageId: copyId } = await client.send(new ec2.CopyImageCommand({ SourceImageId: sourceId, SourceRegion: REGION, Name: uniqueName("copy") }));
        const copy = await describeImage(client, copyId!);
        assert.equal(copy.State, "pending");
        assert.equal((await describeSnapshot(client, snapshotIds(copy)[0])).State, "pending");
        await waitForImageState(client, copyId!, ["available"]);

        const { ImageId: registeredId } = await client.send(new ec2.RegisterImageCommand({ Name: uniqueName("reg"), RootDeviceName: "/dev/xvda" }));
        assert.equal((await describeImage(client, registeredId!)).State, "pending");
        await waitForImageState(client, registeredId!, ["available"]);
    });
});
