// Recovery and scale end to end: a `pulumi up` killed during a copy wait, an existing AMI
// adopted in place of `pulumi import`, and a load of 20 golden images x 3 regions under
// throttling. Every test ends with a leak audit.
import * as assert from "node:assert/strict";
import { CreateImageCommand, DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { inventory, leakCount, leakedSince, AccountInventory } from "../support/audit";
import { Emulator, pollUntil } from "../support/emulator";
import { killTree, PulumiStack } from "../support/pulumi";

const REGION = "us-east-1";
const REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const COPY_TYPE = "pulumi-nodejs:dynamic/golden-ami:ImageCopy";

describe("e2e faults: recovery and load", function () {
    let emulator: Emulator;
    let baseline: AccountInventory;

    before(async () => {
        emulator = await Emulator.start({ timing: { instanceStopping: 1, imagePending: 3, copyPending: 3 } });
        baseline = await inventory(emulator, REGIONS);
    });
    after(async () => {
        await emulator?.stop();
    });

    async function assertNothingLeaked(): Promise<void> {
        const leaks = await leakedSince(emulator, baseline, REGIONS);
        assert.equal(leakCount(leaks), 0, `leaked: ${JSON.stringify(leaks)}`);
    }

    async function sourceImage(): Promise<string> {
        const instanceId = await emulator.launchInstance(REGION);
        const out = await emulator.ec2(REGION).send(new CreateImageCommand({ InstanceId: instanceId, Name: `source-${Date.now()}` }));
        await pollUntil(
            async () => (await emulator.ec2(REGION).send(new DescribeImagesCommand({ ImageIds: [out.ImageId!] }))).Images?.[0]?.State,
            (state) => state === "available",
            { timeoutMs: 60_000, what: "the source image" },
        );
        return out.ImageId!;
    }

    it("survives SIGKILL of `pulumi up` during a copy wait: the re-run finds the copy (same ClientToken), no duplicate", async () => {
        const source = await sourceImage();
        await emulator.configure({ timing: { copyPending: 20 } });
        const stack = await PulumiStack.create({
            program: "image-copy",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, sourceImageId: source, sourceRegion: REGION, copies: JSON.stringify({ dr: { region: "eu-west-1" } }) },
        });
        try {
            await emulator.resetCalls();
            const child = stack.spawnUp();
            await pollUntil(
                async () => (await emulator.calls()).calls.some((c) => c.action === "CopyImage" && c.status === 200),
                (made) => made,
                { timeoutMs: 120_000, intervalMs: 250, what: "CopyImage from the first pulumi up" },
            );
            killTree(child.pid!);
            await new Promise((resolve) => child.once("exit", resolve));
            const copiesBefore = Object.entries((await emulator.calls()).images).filter(([, e]) => e.kind === "copy").map(([id]) => id);
            assert.equal(copiesBefore.length, 1);

            await emulator.configure({ timing: { copyPending: 3 } });
            assert.equal((await stack.run(["cancel", "--yes"])).code, 0);
            const rerun = await stack.up();
            assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
            const copies = Object.entries((await emulator.calls()).images).filter(([, e]) => e.kind === "copy").map(([id]) => id);
            assert.deepEqual(copies, copiesBefore, "the re-run made no second copy");
            const inState = await stack.resourcesOfType(COPY_TYPE);
            assert.equal(inState.length, 1);
            assert.equal(inState[0].id, copiesBefore[0]);

            assert.equal((await stack.destroy()).code, 0);
        } finally {
            await emulator.configure({ timing: { copyPending: 3 } });
            await stack.remove();
        }
        // The source image was made by this test outside Pulumi: the only image left in us-east-1.
        const leaks = await leakedSince(emulator, baseline, REGIONS);
        assert.deepEqual(leaks.images[REGION], [source]);
        assert.equal(leaks.images["eu-west-1"].length + leaks.snapshots["eu-west-1"].length, 0, JSON.stringify(leaks));
        baseline = await inventory(emulator, REGIONS);
    });

    it("adopts an existing AMI with adoptImageId (golden-ami's pulumi import): no new image, diffs clean, destroy removes it", async () => {
        const existing = await sourceImage();
        const instanceId = await emulator.launchInstance(REGION);
        const before = await inventory(emulator, REGIONS);
        const name = (await emulator.ec2(REGION).send(new DescribeImagesCommand({ ImageIds: [existing] }))).Images![0].Name!;
        const stack = await PulumiStack.create({
            program: "instance-image",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, instanceId, adoptImageId: existing, name, tags: JSON.stringify({ team: "platform" }) },
        });
        try {
            await emulator.resetCalls();
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const calls = (await emulator.calls()).calls.map((c) => c.action);
            assert.ok(!calls.includes("CreateImage") && !calls.includes("StopInstances"), calls.join(","));
            const out = (await stack.outputs()) as { imageId: string; tags: Record<string, string> };
            assert.equal(out.imageId, existing);
            assert.deepEqual(out.tags, { team: "platform" }, "the declared tags were applied to the adopted image");
            assert.equal((await stack.preview(["--expect-no-changes"])).code, 0, "the adopted image diffs clean");
            assert.equal((await stack.refresh(["--expect-no-changes"])).code, 0, "and refreshes clean");
            assert.deepEqual((await inventory(emulator, REGIONS)).images, before.images, "no image was made");

            assert.equal((await stack.destroy()).code, 0);
            const gone = await emulator.ec2(REGION).send(new DescribeImagesCommand({ Owners: ["self"] }));
            assert.ok(!(gone.Images ?? []).some((i) => i.ImageId === existing), "destroy deregistered the adopted image");
        } finally {
            await stack.remove();
        }
        await assertNothingLeaked();
    });

    it("load: 20 golden images x 3 regions in one stack under 10% throttling completes with exact counts", async () => {
        const instanceIds: string[] = [];
        for (let i = 0; i < 20; i++) instanceIds.push(await emulator.launchInstance(REGION));
        const stack = await PulumiStack.create({
            program: "load",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, instanceIds: JSON.stringify(instanceIds), copyRegions: JSON.stringify(["eu-west-1", "ap-southeast-2"]) },
        });
        try {
            await emulator.configure({ throttle: { fraction: 0.1, seed: 5 } });
            await emulator.resetCalls();
            const started = Date.now();
            const up = await stack.up(["--parallel", "64"]);
            const seconds = (Date.now() - started) / 1000;
            await emulator.configure({ throttle: null });
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const { calls, images } = await emulator.calls();
            const throttled = calls.filter((c) => c.throttled).length;
            const made = Object.values(images);
            assert.equal(made.filter((e) => e.kind === "create").length, 20, "exactly 20 images");
            for (const region of ["eu-west-1", "ap-southeast-2"]) {
                assert.equal(made.filter((e) => e.kind === "copy" && e.region === region).length, 20, `exactly 20 copies in ${region}`);
            }
            const outputs = (await stack.outputs()) as { regionImageIds: Array<Record<string, string>> };
            assert.equal(outputs.regionImageIds.length, 20);
            assert.equal(new Set(outputs.regionImageIds.flatMap((r) => Object.values(r))).size, 60, "60 distinct AMIs");
            console.log(`      60 images in ${seconds.toFixed(0)} s; ${throttled} of ${calls.length} EC2 calls throttled`);

            assert.equal((await stack.destroy(["--parallel", "64"])).code, 0);
        } finally {
            await emulator.configure({ throttle: null });
            await stack.remove();
        }
        await assertNothingLeaked();
    });
});
