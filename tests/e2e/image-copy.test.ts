// ImageCopy end to end with the real Pulumi engine against the emulator with timed copies:
// copies into several regions wait side by side, encryption, sharing and deprecation are
// applied and refresh clean, and nothing is left in any region after destroy.
import * as assert from "node:assert/strict";
import {
    CreateImageCommand,
    DescribeImageAttributeCommand,
    DescribeImagesCommand,
    DescribeSnapshotAttributeCommand,
    DescribeSnapshotsCommand,
} from "@aws-sdk/client-ec2";
import { inventory, leakCount, leakedSince, AccountInventory } from "../support/audit";
import { Emulator, EmulatorCall } from "../support/emulator";
import { PulumiStack, said } from "../support/pulumi";

const SOURCE_REGION = "us-east-1";
const REGIONS = [SOURCE_REGION, "eu-west-1", "us-west-2"];
const TYPE = "pulumi-nodejs:dynamic/golden-ami:ImageCopy";
const A = "111111111111";
const B = "222222222222";
/** Short copies keep the tests fast; the concurrency test sets its own, longer duration. */
const SHORT_COPY_SECONDS = 2;
const LONG_COPY_SECONDS = 10;

interface CopyOutput {
    imageId: string;
    region: string;
    state: string;
    snapshotIds: string[];
    encrypted: boolean;
    kmsKeyId?: string;
    blockDeviceMappings: Array<{ snapshotId?: string; encrypted?: boolean; kmsKeyId?: string }>;
    launchAccounts?: string[];
    deprecateAt?: string;
}

describe("e2e: ImageCopy", function () {
    let emulator: Emulator;
    let baseline: AccountInventory;
    let sourceImageId: string;

    before(async () => {
        emulator = await Emulator.start({ timing: { copyPending: SHORT_COPY_SECONDS } });
        const instanceId = await emulator.launchInstance(SOURCE_REGION);
        const made = await emulator.ec2(SOURCE_REGION).send(new CreateImageCommand({ InstanceId: instanceId, Name: `e2e-copy-source-${Date.now()}` }));
        sourceImageId = made.ImageId!;
        // The source is the test's own fixture: everything after this must be gone at the end.
        baseline = await inventory(emulator, REGIONS);
    });

    after(async () => {
        await emulator?.stop();
    });

    async function newStack(copies: Record<string, Record<string, unknown>>): Promise<PulumiStack> {
        return PulumiStack.create({
            program: "image-copy",
            env: emulator.env(SOURCE_REGION),
            config: { "aws:region": SOURCE_REGION, sourceImageId, sourceRegion: SOURCE_REGION, copies: JSON.stringify(copies) },
        });
    }

    async function copyOutputs(stack: PulumiStack): Promise<Record<string, CopyOutput>> {
        return (await stack.outputs()).copyOutputs as Record<string, CopyOutput>;
    }

    async function upOk(stack: PulumiStack): Promise<string> {
        const up = await stack.up();
        assert.equal(up.code, 0, up.stdout + up.stderr);
        return up.stdout;
    }

    async function refreshClean(stack: PulumiStack): Promise<void> {
        const refresh = await stack.refresh(["--expect-no-changes"]);
        assert.equal(refresh.code, 0, `refresh found changes:\n${refresh.stdout}\n${refresh.stderr}`);
    }

    async function destroyAndAudit(stack: PulumiStack): Promise<void> {
        const destroy = await stack.destroy();
        assert.equal(destroy.code, 0, destroy.stdout + destroy.stderr);
        assert.equal((await stack.resourcesOfType(TYPE)).length, 0);
        const leaks = await leakedSince(emulator, baseline, REGIONS);
        assert.equal(leakCount(leaks), 0, `leaked: ${JSON.stringify(leaks)}`);
    }

    it("copies into two regions concurrently: three 10 s copies are all done about 10 s after the first CopyImage; refresh clean; destroy leaves nothing", async () => {
        await emulator.configure({ timing: { copyPending: LONG_COPY_SECONDS } });
        const stack = await newStack({
            "c1-eu": { region: "eu-west-1" },
            "c1-eu-b": { region: "eu-west-1", tags: { purpose: "second copy in the same region" } },
            "c1-usw": { region: "us-west-2" },
        });
        try {
            await emulator.resetCalls();
            await upOk(stack);
            const out = await copyOutputs(stack);
            assert.deepEqual(Object.keys(out).sort(), ["c1-eu", "c1-eu-b", "c1-usw"]);
            for (const copy of Object.values(out)) assert.equal(copy.state, "available");
            assert.equal(out["c1-usw"].region, "us-west-2");

            const { calls, images } = await emulator.calls();
            const copies = Object.entries(images).filter(([, e]) => e.kind === "copy");
            assert.equal(copies.length, 3, JSON.stringify(images));
            for (const [id, e] of copies) {
                assert.ok(e.availableAt - e.createdAt >= LONG_COPY_SECONDS * 1000 - 100, `${id} took its ${LONG_COPY_SECONDS} s`);
                const live = (await emulator.ec2(e.region).send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0];
                assert.equal(live.State, "available");
            }
            const copyCalls = calls.filter((c) => c.action === "CopyImage" && c.status === 200);
            assert.equal(copyCalls.length, 3);
            const firstCopyAt = Math.min(...copyCalls.map((c) => c.at));
            // All three were in flight at once: the last started before the first was done.
            const lastCreated = Math.max(...copies.map(([, e]) => e.createdAt));
            const firstAvailable = Math.min(...copies.map(([, e]) => e.availableAt));
            assert.ok(lastCreated < firstAvailable, `copies ran one after another: last created ${lastCreated}, first available ${firstAvailable}`);
            // The last look of any waiter (in a destination region) is when the last copy was seen done.
            const looks = calls.filter((c: EmulatorCall) => c.region !== SOURCE_REGION && (c.action === "DescribeImages" || c.action === "DescribeSnapshots"));
            const lastDetection = Math.max(...looks.map((c) => c.at));
            const lastAvailable = Math.max(...copies.map(([, e]) => e.availableAt));
            assert.ok(lastDetection >= lastAvailable, "the waiters looked until every copy was available");
            const span = lastDetection - firstCopyAt;
            console.log(
                `      concurrency: 3 copies of ${LONG_COPY_SECONDS} s each; CopyImage calls within ${Math.max(...copyCalls.map((c) => c.at)) - firstCopyAt} ms; ` +
                    `first CopyImage → last copy seen available: ${(span / 1000).toFixed(1)} s (serial would be ≥ ${3 * LONG_COPY_SECONDS} s); ` +
                    `detected ${((lastDetection - lastAvailable) / 1000).toFixed(1)} s after the last became available`,
            );
            assert.ok(span < 20_000, `first CopyImage → last detection took ${span} ms: the copies were not waited for side by side`);

            await refreshClean(stack);
            await destroyAndAudit(stack);
        } finally {
            await emulator.configure({ timing: { copyPending: SHORT_COPY_SECONDS } });
            await stack.remove();
        }
    });

    it("an encrypted copy with a KMS key of its region: snapshots encrypted with that key; refresh clean; destroy leaves nothing", async () => {
        const keyArn = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        const stack = await newStack({ "c2-enc": { region: "eu-west-1", encrypted: true, kmsKeyId: keyArn } });
        try {
            await upOk(stack);
            const copy = (await copyOutputs(stack))["c2-enc"];
            assert.equal(copy.encrypted, true);
            assert.equal(copy.kmsKeyId, keyArn);
            const snapshots = (await emulator.ec2("eu-west-1").send(new DescribeSnapshotsCommand({ SnapshotIds: copy.snapshotIds }))).Snapshots!;
            assert.ok(snapshots.length >= 1);
            for (const s of snapshots) {
                assert.equal(s.Encrypted, true);
                assert.equal(s.KmsKeyId, keyArn);
            }
            for (const m of copy.blockDeviceMappings.filter((b) => b.snapshotId)) assert.equal(m.kmsKeyId, keyArn);
            await refreshClean(stack);
            await destroyAndAudit(stack);
        } finally {
            await stack.remove();
        }
    });

    it("shares with two accounts, then with one: EC2 shows exactly the remaining one; refresh clean after each step", async () => {
        const stack = await newStack({ "c3-shared": { region: "eu-west-1", launchAccounts: [B, A], shareSnapshots: true } });
        const ec2 = emulator.ec2("eu-west-1");
        const launch = async (imageId: string) =>
            ((await ec2.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" }))).LaunchPermissions ?? [])
                .map((p) => p.UserId ?? p.Group)
                .sort();
        const volumeUsers = async (snapshotId: string) =>
            ((await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" }))).CreateVolumePermissions ?? [])
                .map((p) => p.UserId)
                .sort();
        try {
            await upOk(stack);
            const copy = (await copyOutputs(stack))["c3-shared"];
            assert.deepEqual(copy.launchAccounts, [B, A], "state keeps the list as written");
            assert.deepEqual(await launch(copy.imageId), [A, B]);
            for (const s of copy.snapshotIds) assert.deepEqual(await volumeUsers(s), [A, B]);
            await refreshClean(stack);

            await stack.setConfig({ copies: JSON.stringify({ "c3-shared": { region: "eu-west-1", launchAccounts: [A], shareSnapshots: true } }) });
            await emulator.resetCalls();
            const update = await upOk(stack);
            assert.ok(/1 updated/.test(update), update);
            assert.ok(!(await emulator.calls()).calls.some((c) => c.action === "CopyImage"), "sharing changes make no new copy");
            const after = (await copyOutputs(stack))["c3-shared"];
            assert.equal(after.imageId, copy.imageId);
            assert.deepEqual(await launch(copy.imageId), [A]);
            for (const s of copy.snapshotIds) assert.deepEqual(await volumeUsers(s), [A]);
            assert.deepEqual(after.launchAccounts, [A]);
            await refreshClean(stack);
            await destroyAndAudit(stack);
        } finally {
            await stack.remove();
        }
    });

    it("deprecates (a time with seconds, which EC2 rounds to the minute) and clears it again; refresh clean after each step", async () => {
        const at = new Date(Date.now() + 2 * 24 * 3600_000);
        at.setUTCSeconds(29, 0);
        const deprecateAt = at.toISOString().replace(".000Z", "Z");
        const stack = await newStack({ "c4-dep": { region: "eu-west-1", deprecateAt } });
        const deprecation = async (imageId: string) =>
            (await emulator.ec2("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDeprecated: true }))).Images![0].DeprecationTime;
        try {
            await upOk(stack);
            const copy = (await copyOutputs(stack))["c4-dep"];
            assert.equal(copy.deprecateAt, deprecateAt, "state keeps the time as written");
            const live = await deprecation(copy.imageId);
            assert.ok(live, "EC2 has a deprecation time");
            assert.equal(Date.parse(live!), Date.parse(deprecateAt) - 29_000, "rounded to the minute");
            await refreshClean(stack);

            await stack.setConfig({ copies: JSON.stringify({ "c4-dep": { region: "eu-west-1" } }) });
            const update = await upOk(stack);
            assert.ok(/1 updated/.test(update), update);
            assert.equal(await deprecation(copy.imageId), undefined, "deprecation cleared");
            assert.equal((await copyOutputs(stack))["c4-dep"].deprecateAt, undefined);
            await refreshClean(stack);
            await destroyAndAudit(stack);
        } finally {
            await stack.remove();
        }
    });

    it("a region that is an availability zone is refused at preview, naming the property and the region to use", async () => {
        const stack = await newStack({ "c5-az": { region: "eu-west-1a" } });
        try {
            const preview = await stack.preview();
            assert.notEqual(preview.code, 0);
            assert.ok(said(preview, /region: "eu-west-1a" is an availability zone, not a region; use "eu-west-1"/), preview.stdout + preview.stderr);
            assert.equal((await stack.resourcesOfType(TYPE)).length, 0);
        } finally {
            await stack.remove();
        }
    });
});
