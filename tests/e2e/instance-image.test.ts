// InstanceImage end to end with the real Pulumi engine against the emulator with timed states.
import * as assert from "node:assert/strict";
import { DescribeImagesCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { inventory, leakCount, leakedSince, AccountInventory } from "../support/audit";
import { Emulator, pollUntil } from "../support/emulator";
import { killTree, PulumiStack, said } from "../support/pulumi";

const REGION = "us-east-1";
const TYPE = "pulumi-nodejs:dynamic/golden-ami:InstanceImage";

describe("e2e: InstanceImage", function () {
    let emulator: Emulator;
    let baseline: AccountInventory;

    before(async () => {
        emulator = await Emulator.start({ timing: { instancePending: 1, instanceStopping: 2, imagePending: 4 } });
        baseline = await inventory(emulator, [REGION]);
    });

    after(async () => {
        await emulator?.stop();
    });

    async function newStack(config: Record<string, string> = {}): Promise<{ stack: PulumiStack; instanceId: string }> {
        const instanceId = await emulator.launchInstance(REGION);
        const stack = await PulumiStack.create({
            program: "instance-image",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, instanceId, ...config },
        });
        return { stack, instanceId };
    }

    async function assertNothingLeaked(): Promise<void> {
        const leaks = await leakedSince(emulator, baseline, [REGION]);
        assert.equal(leakCount(leaks), 0, `leaked: ${JSON.stringify(leaks)}`);
    }

    it("stops the instance, images it, waits for the snapshots, refreshes clean, updates tags in place, destroys everything", async () => {
        const { stack, instanceId } = await newStack({ tags: JSON.stringify({ team: "platform" }), snapshotTags: JSON.stringify({ backup: "no" }) });
        try {
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const out = (await stack.outputs()) as { imageId: string; snapshotIds: string[]; state: string; tags: Record<string, string> };
            assert.equal(out.state, "available");
            assert.deepEqual(out.tags, { team: "platform" });

            const ec2 = emulator.ec2(REGION);
            const instance = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
            assert.equal(instance.Reservations?.[0]?.Instances?.[0]?.State?.Name, "stopped", "imaged only after stopping");
            const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [out.imageId] }))).Images![0];
            assert.equal(image.State, "available");
            const snaps = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: out.snapshotIds }))).Snapshots!;
            assert.ok(snaps.length >= 1);
            for (const s of snaps) {
                assert.equal(s.State, "completed");
                const tags = Object.fromEntries((s.Tags ?? []).map((t) => [t.Key, t.Value]));
                assert.equal(tags.backup, "no");
                assert.equal(tags["golden-ami:source-instance"], instanceId);
            }
            const calls = (await emulator.calls()).calls;
            const stopAt = calls.find((c) => c.action === "StopInstances")!.at;
            const createAt = calls.find((c) => c.action === "CreateImage")!.at;
            assert.ok(stopAt < createAt, "StopInstances before CreateImage");

            const refresh = await stack.refresh(["--expect-no-changes"]);
            assert.equal(refresh.code, 0, refresh.stdout + refresh.stderr);

            await stack.setConfig({ tags: JSON.stringify({ team: "platform", env: "prod" }) });
            await emulator.resetCalls();
            const update = await stack.up();
            assert.equal(update.code, 0, update.stdout + update.stderr);
            assert.ok(said(update, "1 updated"), update.stdout);
            const afterUpdate = (await emulator.calls()).calls.map((c) => c.action);
            assert.ok(!afterUpdate.includes("CreateImage"), "a tag change makes no new image");
            const images = (await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!;
            const ours = images.filter((i) => i.Tags?.some((t) => t.Key === "golden-ami:source-instance" && t.Value === instanceId));
            assert.equal(ours.length, 1, "still exactly one image");
            assert.equal(ours[0].Tags?.find((t) => t.Key === "env")?.Value, "prod");
            assert.equal((await stack.refresh(["--expect-no-changes"])).code, 0);

            const destroy = await stack.destroy();
            assert.equal(destroy.code, 0, destroy.stdout + destroy.stderr);
            await assertNothingLeaked();
        } finally {
            await stack.remove();
        }
    });

    it("survives SIGKILL of `pulumi up` mid-wait: the re-run adopts the image, no duplicate, destroy cleans up", async () => {
        await emulator.configure({ timing: { imagePending: 20 } });
        const { stack } = await newStack();
        try {
            await emulator.resetCalls();
            const child = stack.spawnUp();
            let output = "";
            child.stdout!.on("data", (d) => (output += d));
            child.stderr!.on("data", (d) => (output += d));
            // Kill once CreateImage has reached EC2 and the provider is waiting.
            await pollUntil(
                async () => (await emulator.calls()).calls.some((c) => c.action === "CreateImage"),
                (made) => made,
                { timeoutMs: 120_000, intervalMs: 250, what: "CreateImage from the first pulumi up" },
            );
            killTree(child.pid!);
            await new Promise((resolve) => child.once("exit", resolve));
            const madeBeforeKill = Object.keys((await emulator.calls()).images);
            assert.equal(madeBeforeKill.length, 1, output);

            await emulator.configure({ timing: { imagePending: 4 } });
            // What a user does after a killed update: release the lock, then run again.
            const cancel = await stack.run(["cancel", "--yes"]);
            assert.equal(cancel.code, 0, cancel.stdout + cancel.stderr);
            const rerun = await stack.up();
            assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
            const createCalls = (await emulator.calls()).calls.filter((c) => c.action === "CreateImage" && c.status === 200);
            assert.equal(createCalls.length, 1, "the re-run made no second image");
            const inState = await stack.resourcesOfType(TYPE);
            assert.equal(inState.length, 1);
            assert.equal(inState[0].id, madeBeforeKill[0], "the image made before the kill is the one in state");

            assert.equal((await stack.destroy()).code, 0);
            await assertNothingLeaked();
        } finally {
            await emulator.configure({ timing: { imagePending: 4 } });
            await stack.remove();
        }
    });

    it("records an image whose wait timed out, and the next `pulumi up` resumes it", async () => {
        // 0.05 min = 3 s of waiting against an image that takes 15 s.
        await emulator.configure({ timing: { imagePending: 15 } });
        const { stack } = await newStack({ imageTimeoutMinutes: "0.05" });
        try {
            await emulator.resetCalls();
            const first = await stack.up();
            assert.notEqual(first.code, 0, "the first up fails on the timeout");
            assert.ok(said(first, /timed out after 3 s waiting for image ami-/), first.stdout + first.stderr);
            const recorded = await stack.resourcesOfType(TYPE);
            assert.equal(recorded.length, 1, "the pending image is in state");
            assert.match(recorded[0].id ?? "", /^ami-/);

            await stack.setConfig({ imageTimeoutMinutes: "5" });
            const second = await stack.up();
            assert.equal(second.code, 0, second.stdout + second.stderr);
            const out = (await stack.outputs()) as { imageId: string; state: string };
            assert.equal(out.imageId, recorded[0].id, "resumed the same image");
            assert.equal(out.state, "available");
            const creates = (await emulator.calls()).calls.filter((c) => c.action === "CreateImage" && c.status === 200);
            assert.equal(creates.length, 1);

            assert.equal((await stack.destroy()).code, 0);
            await assertNothingLeaked();
        } finally {
            await emulator.configure({ timing: { imagePending: 4 } });
            await stack.remove();
        }
    });

    it("refuses a terminated instance with a clear error and creates nothing", async () => {
        const { stack, instanceId } = await newStack();
        try {
            await emulator.ec2(REGION).send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
            const up = await stack.up();
            assert.notEqual(up.code, 0);
            assert.ok(said(up, new RegExp(`instance ${instanceId} in ${REGION} is (terminated|shutting-down)`)), up.stdout + up.stderr);
            assert.equal((await stack.resourcesOfType(TYPE)).length, 0);
            await assertNothingLeaked();
        } finally {
            await stack.remove();
        }
    });
});
