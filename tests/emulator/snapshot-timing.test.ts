// Extension 1 (time), per snapshot: each snapshot of an image takes a duration that depends on
// its volume (snapshotSeconds + snapshotSecondsPerGiB × size), so the snapshots of one image
// complete at different moments and the image is available only after the slowest.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator, pollUntil } from "../support/emulator";
import { describeImage, describeSnapshot, snapshotIds, uniqueName } from "./helpers";

const REGION = "us-east-1";
const OTHER_REGION = "eu-west-1";

describe("emulator: per-snapshot timing", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;

    before(async function () {
        emulator = await Emulator.start({ timing: { snapshotSeconds: 0.5, snapshotSecondsPerGiB: 0.02 } });
        client = emulator.ec2(REGION);
    });
    after(async function () {
        await emulator?.stop();
    });

    it("a 200 GiB volume's snapshot completes after an 8 GiB one's; the image is available only after the slowest", async function () {
        const instanceId = await emulator.launchInstance(REGION, { volumeSizes: [8, 200] });
        const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("sizes") }));
        const { images } = await emulator.calls();
        const record = images[ImageId!];
        const bySize = Object.entries(record.snapshots ?? {}).sort(([, a], [, b]) => a.volumeSize - b.volumeSize);
        assert.deepEqual(bySize.map(([, s]) => s.volumeSize), [8, 200], "one snapshot per volume, with its size");
        const [[smallId, small], [bigId, big]] = bySize;
        // 0.5 + 0.02 × 8 = 0.66 s and 0.5 + 0.02 × 200 = 4.5 s after they started.
        assert.ok(Math.abs(small.completedAt - small.startedAt - 660) <= 2, `small: ${small.completedAt - small.startedAt} ms`);
        assert.ok(Math.abs(big.completedAt - big.startedAt - 4500) <= 2, `big: ${big.completedAt - big.startedAt} ms`);
        assert.equal(record.availableAt, big.completedAt, "available when the slowest snapshot completes");
        assert.deepEqual(snapshotIds(await describeImage(client, ImageId!)).sort(), [smallId, bigId].sort());

        // What DescribeSnapshots / DescribeImages show in between.
        await pollUntil(() => describeSnapshot(client, smallId), (s) => s.State === "completed", { what: "the small snapshot" });
        const [image, bigNow] = await Promise.all([describeImage(client, ImageId!), describeSnapshot(client, bigId)]);
        assert.ok(Date.now() < big.completedAt, "still before the big snapshot's completion");
        assert.equal(bigNow.State, "pending");
        assert.ok(Number.parseInt(bigNow.Progress!, 10) < 100, bigNow.Progress);
        assert.equal(image.State, "pending", "the image waits for the slowest snapshot");
        const done = await pollUntil(() => describeImage(client, ImageId!), (i) => i.State === "available", { what: "available", timeoutMs: 10_000 });
        assert.ok(Date.now() >= big.completedAt, "available no sooner than the big snapshot completed");
        assert.equal((await describeSnapshot(client, bigId)).State, "completed");
        assert.equal(done.State, "available");
    });

    it("a copy's snapshots take the duration of their volume's size too", async function () {
        const instanceId = await emulator.launchInstance(REGION, { volumeSizes: [8, 100] });
        const { ImageId: sourceId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("copy-src") }));
        const { ImageId: copyId } = await emulator.ec2(OTHER_REGION).send(
            new ec2.CopyImageCommand({ SourceImageId: sourceId, SourceRegion: REGION, Name: uniqueName("copy") }),
        );
        const record = (await emulator.calls()).images[copyId!];
        const durations = Object.values(record.snapshots ?? {})
            .sort((a, b) => a.volumeSize - b.volumeSize)
            .map((s) => [s.volumeSize, s.completedAt - s.startedAt]);
        assert.deepEqual(durations.map(([size]) => size), [8, 100]);
        assert.ok(Math.abs(durations[0][1] - 660) <= 2 && Math.abs(durations[1][1] - 2500) <= 2, JSON.stringify(durations));
        assert.equal(record.availableAt, Math.max(...Object.values(record.snapshots!).map((s) => s.completedAt)));
    });

    it("without snapshotSecondsPerGiB every snapshot of an image takes the same time (the previous behaviour)", async function () {
        await emulator.configure({ timing: { snapshotSecondsPerGiB: null } });
        try {
            const instanceId = await emulator.launchInstance(REGION, { volumeSizes: [8, 200] });
            const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("same") }));
            const snapshots = Object.values((await emulator.calls()).images[ImageId!].snapshots ?? {});
            assert.equal(snapshots.length, 2);
            for (const s of snapshots) assert.ok(Math.abs(s.completedAt - s.startedAt - 500) <= 2, JSON.stringify(s));
        } finally {
            await emulator.configure({ timing: { snapshotSecondsPerGiB: 0.02 } });
        }
    });
});
