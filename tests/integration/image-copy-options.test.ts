// ImageCopy options end to end at the EC2 API: the real provider's create in this process
// against the emulator over HTTP. copyImageTags reaches CopyImage and puts the source's tags on
// the copy (kept apart from the declared tags in the outputs); a time-based copy
// (snapshotCopyCompletionDurationMinutes) is requested as one and its snapshots say so.
import * as assert from "node:assert/strict";
import { CreateImageCommand, CreateTagsCommand, DescribeImagesCommand, DescribeSnapshotsCommand } from "@aws-sdk/client-ec2";
import { ImageCopyOutputs } from "../../providers/lifecycle/image-copy";
import { Emulator } from "../support/emulator";
import { checkedCreate, useEmulatorEnv } from "../support/provider-calls";
import { providers } from "../../providers/runtime";

const imageCopyProvider = providers.ImageCopy;

const SOURCE_REGION = "us-east-1";
const REGION = "eu-west-1";

describe("integration: ImageCopy options (emulator)", function () {
    let emulator: Emulator;
    let restoreEnv: () => void;
    let sourceImageId: string;
    let counter = 0;

    before(async function () {
        emulator = await Emulator.start({ timing: { copyPending: 1 } });
        restoreEnv = useEmulatorEnv(emulator, SOURCE_REGION);
        const instanceId = await emulator.launchInstance(SOURCE_REGION);
        const source = emulator.ec2(SOURCE_REGION);
        sourceImageId = (await source.send(new CreateImageCommand({ InstanceId: instanceId, Name: `copy-options-source-${Date.now()}` }))).ImageId!;
        await source.send(new CreateTagsCommand({ Resources: [sourceImageId], Tags: [{ Key: "team", Value: "platform" }, { Key: "cost-centre", Value: "42" }] }));
    });
    after(async function () {
        restoreEnv?.();
        await emulator?.stop();
    });

    const copy = (over: Record<string, unknown>) =>
        checkedCreate<ImageCopyOutputs>(imageCopyProvider, "ImageCopy", `copy${++counter}`, { sourceImageId, sourceRegion: SOURCE_REGION, region: REGION, ...over });

    async function liveTags(imageId: string): Promise<Record<string, string>> {
        const image = (await emulator.ec2(REGION).send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
        return Object.fromEntries((image.Tags ?? []).filter((t) => !t.Key!.startsWith("golden-ami:")).map((t) => [t.Key!, t.Value!]));
    }

    it("copyImageTags: CopyImage asked for it; the copy carries the source's tags and the declared ones; outputs keep them apart", async function () {
        const { id, outs } = await copy({ copyImageTags: true, tags: { env: "dr" } });
        assert.equal((await emulator.calls()).images[id].copyImageTags, true, "the CopyImage request had CopyImageTags=true");
        assert.deepEqual(await liveTags(id), { team: "platform", "cost-centre": "42", env: "dr" });
        assert.deepEqual(outs.tags, { env: "dr" });
        assert.deepEqual(outs.copiedTags, { team: "platform", "cost-centre": "42" });

        const { id: plain } = await copy({ tags: { env: "dr" } });
        assert.equal((await emulator.calls()).images[plain].copyImageTags, false);
        assert.deepEqual(await liveTags(plain), { env: "dr" }, "without copyImageTags the source's tags stay behind");
    });

    it("snapshotCopyCompletionDurationMinutes: a time-based copy, requested with that duration; its snapshots are time-based", async function () {
        const { id, outs } = await copy({ snapshotCopyCompletionDurationMinutes: 15 });
        assert.equal((await emulator.calls()).images[id].completionDurationMinutes, 15, "in the CopyImage request");
        const snapshots = (await emulator.ec2(REGION).send(new DescribeSnapshotsCommand({ SnapshotIds: outs.snapshotIds }))).Snapshots!;
        assert.ok(snapshots.length >= 1);
        for (const s of snapshots) {
            assert.equal(s.TransferType, "time-based");
            assert.equal(s.CompletionDurationMinutes, 15);
            assert.equal(s.State, "completed");
        }
        assert.equal(outs.snapshotCopyCompletionDurationMinutes, 15);
        assert.equal(outs.state, "available");

        const { id: standard } = await copy({});
        assert.equal((await emulator.calls()).images[standard].completionDurationMinutes, null, "not asked for otherwise");
    });
});
