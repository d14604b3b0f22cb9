// The ImageCopy provider's methods called directly against the EC2 emulator over HTTP, with
// timed copies: the copy really waits in the destination region, encryption reaches the
// snapshots, and the ClientToken makes racing or repeated creates end with one copy.
import * as assert from "node:assert/strict";
import { providers } from "../../providers/runtime";
import { CreateImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, Image } from "@aws-sdk/client-ec2";
import { ec2Client, resetClients } from "../../providers/ec2/client";
import { setConfiguredRegion } from "../../providers/core/region";
import { ImageCopyOutputs } from "../../providers/lifecycle/image-copy";
import { inventory, leakCount, leakedSince, AccountInventory } from "../support/audit";
import { Emulator } from "../support/emulator";

const imageCopyProvider = providers.ImageCopy;

const SOURCE_REGION = "us-east-1";
const REGION = "eu-west-1";
const REGIONS = [SOURCE_REGION, REGION];
const KEY_ARN = `arn:aws:kms:${REGION}:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;
const COPY_SECONDS = 2;

describe("integration: ImageCopy provider (emulator)", function () {
    let emulator: Emulator;
    let savedEnv: NodeJS.ProcessEnv;
    let sourceImageId: string;
    let baseline: AccountInventory;
    let counter = 0;

    before(async function () {
        emulator = await Emulator.start({ timing: { copyPending: COPY_SECONDS } });
        savedEnv = { ...process.env };
        Object.assign(process.env, emulator.env(SOURCE_REGION));
        setConfiguredRegion(undefined);
        resetClients();
        const instanceId = await emulator.launchInstance(SOURCE_REGION);
        const made = await emulator.ec2(SOURCE_REGION).send(new CreateImageCommand({ InstanceId: instanceId, Name: `ga-copy-source-${Date.now()}` }));
        sourceImageId = made.ImageId!;
        baseline = await inventory(emulator, REGIONS);
    });

    after(async function () {
        resetClients();
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        await emulator?.stop();
    });

    /** check → create, as the engine does; a unique resource name per call unless given. */
    async function copy(over: Record<string, unknown> = {}, resource = `copy${++counter}`) {
        const news = {
            sourceImageId,
            sourceRegion: SOURCE_REGION,
            region: REGION,
            resourceUrn: `urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:ImageCopy::${resource}`,
            ...over,
        };
        const { inputs, failures } = await imageCopyProvider.check!({}, news);
        assert.deepEqual(failures ?? [], []);
        const { id, outs } = await imageCopyProvider.create(inputs);
        return { id, outs: outs as ImageCopyOutputs, inputs };
    }

    const dest = (): EC2Client => emulator.ec2(REGION);
    /**
     * The image as EC2 describes it; undefined only when EC2 says it is not there (an empty
     * answer or InvalidAMIID.NotFound). Any other error (throttling, a bad endpoint) fails the
     * test instead of passing for "deleted".
     */
    async function image(id: string): Promise<Image | undefined> {
        try {
            return (await dest().send(new DescribeImagesCommand({ ImageIds: [id] }))).Images?.[0];
        } catch (err) {
            if ((err as { name?: string }).name === "InvalidAMIID.NotFound") return undefined;
            throw err;
        }
    }

    async function assertNothingLeaked(): Promise<void> {
        const leaks = await leakedSince(emulator, baseline, REGIONS);
        assert.equal(leakCount(leaks), 0, `leaked: ${JSON.stringify(leaks)}`);
    }

    it("the copy becomes available in the destination region with completed snapshots, after really waiting; delete removes it all", async function () {
        await emulator.resetCalls();
        const started = Date.now();
        const { id, outs } = await copy({ tags: { team: "platform" }, snapshotTags: { backup: "no" } });
        const waited = Date.now() - started;
        assert.ok(waited >= COPY_SECONDS * 1000 - 200, `returned after ${waited} ms, before the copy could be ready`);

        const live = await image(id);
        assert.equal(live?.State, "available");
        assert.equal(live?.SourceImageId, sourceImageId);
        const snapshots = (await dest().send(new DescribeSnapshotsCommand({ SnapshotIds: outs.snapshotIds }))).Snapshots!;
        assert.ok(snapshots.length >= 1);
        for (const s of snapshots) {
            assert.equal(s.State, "completed");
            const tags = Object.fromEntries((s.Tags ?? []).map((t) => [t.Key, t.Value]));
            assert.equal(tags.backup, "no");
            assert.equal(tags["golden-ami:source-image"], `${SOURCE_REGION}/${sourceImageId}`);
        }
        assert.equal(outs.state, "available");
        assert.deepEqual(outs.tags, { team: "platform" });

        const { calls, images } = await emulator.calls();
        assert.equal(images[id]?.kind, "copy");
        assert.equal(images[id]?.region, REGION);
        // Looked until available, in the destination region only.
        const looks = calls.filter((c) => c.action === "DescribeImages" && c.region === REGION && c.at >= images[id].createdAt);
        assert.ok(looks.length >= 2, `looked ${looks.length} times`);
        assert.ok(!calls.some((c) => c.action === "CopyImage" && c.region !== REGION));

        const { props } = await imageCopyProvider.read!(id, outs);
        const { __provider, ...rest } = outs as unknown as Record<string, unknown>;
        assert.deepEqual(props, rest, "a refresh right after create reports no change");

        await imageCopyProvider.delete!(id, outs);
        assert.equal(await image(id), undefined);
        await assertNothingLeaked();
    });

    it("encrypted with a KMS key ARN of the destination region: the copy's snapshots are encrypted with that key", async function () {
        const { id, outs } = await copy({ encrypted: true, kmsKeyId: KEY_ARN });
        const snapshots = (await dest().send(new DescribeSnapshotsCommand({ SnapshotIds: outs.snapshotIds }))).Snapshots!;
        assert.ok(snapshots.length >= 1);
        for (const s of snapshots) {
            assert.equal(s.Encrypted, true);
            assert.equal(s.KmsKeyId, KEY_ARN);
        }
        for (const m of outs.blockDeviceMappings.filter((b) => b.snapshotId)) {
            assert.equal(m.encrypted, true);
            assert.equal(m.kmsKeyId, KEY_ARN);
        }
        await imageCopyProvider.delete!(id, outs);
        await assertNothingLeaked();
    });

    it("ClientToken: a create repeated while the first copy is not yet visible by name ends with one copy", async function () {
        // EC2 lists a new image by name only after a while (eventual consistency): hide it from name searches.
        const client = ec2Client(REGION) as unknown as { send: (command: { input: Record<string, unknown> }) => Promise<unknown> };
        const send = client.send.bind(client);
        client.send = async (command) => (command.input.Filters ? { Images: [] } : send(command));
        try {
            await emulator.resetCalls();
            const first = await copy({}, "repeated");
            const second = await copy({}, "repeated");
            assert.equal(second.id, first.id);
            const { calls, images } = await emulator.calls();
            assert.equal(calls.filter((c) => c.action === "CopyImage" && c.status === 200).length, 2, "both called CopyImage");
            assert.deepEqual(Object.keys(images), [first.id], "one copy made");
            await imageCopyProvider.delete!(first.id, first.outs);
        } finally {
            client.send = send;
        }
        await assertNothingLeaked();
    });

    it("the same copy again after a delete: a new copy, not the deleted one EC2 remembers for the token", async function () {
        const first = await copy({}, "again");
        await imageCopyProvider.delete!(first.id, first.outs);
        const second = await copy({}, "again");
        assert.notEqual(second.id, first.id);
        assert.equal((await image(second.id))?.State, "available");
        await imageCopyProvider.delete!(second.id, second.outs);
        await assertNothingLeaked();
    });

    it("a copy that fails is deleted with its snapshots, and the error quotes EC2's reason", async function () {
        await emulator.configure({ failNext: { kind: "copy", code: "Client.InternalError", message: "Snapshot copy ran out of capacity" } });
        await emulator.resetCalls();
        const err = await copy({}, "doomed").then(
            () => assert.fail("expected the copy to fail"),
            (e: Error) => e,
        );
        assert.match(err.message, /Snapshot copy ran out of capacity/);
        const [failed] = Object.keys((await emulator.calls()).images);
        assert.match(err.message, new RegExp(failed));
        assert.equal(await image(failed), undefined);
        await assertNothingLeaked();
    });
});
