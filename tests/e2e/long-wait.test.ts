// A single create that waits more than 4 minutes of real time and succeeds. Pulumi used to
// cancel Node.js provider calls that ran past about 3 minutes (pulumi/pulumi#13841, fixed by
// #20920 in 3.248); real AMI builds wait 5-30 minutes, so this is proven, not assumed.
import * as assert from "node:assert/strict";
import { inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator } from "../support/emulator";
import { PulumiStack } from "../support/pulumi";

const REGION = "us-east-1";
const IMAGE_SECONDS = 250;

describe("e2e: a create that waits more than 4 minutes", function () {
    let emulator: Emulator;

    before(async () => {
        emulator = await Emulator.start({ timing: { imagePending: IMAGE_SECONDS } });
    });

    after(async () => {
        await emulator?.stop();
    });

    it(`keeps one InstanceImage create waiting ${IMAGE_SECONDS} s for its image, and succeeds`, async () => {
        const baseline = await inventory(emulator, [REGION]);
        const instanceId = await emulator.launchInstance(REGION);
        const stack = await PulumiStack.create({
            program: "instance-image",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, instanceId },
        });
        try {
            const started = Date.now();
            const up = await stack.up();
            const elapsed = Date.now() - started;
            assert.equal(up.code, 0, up.stdout + up.stderr);
            assert.ok(elapsed > 240_000, `the update took ${elapsed} ms`);

            const { calls, images } = await emulator.calls();
            const [imageId] = Object.keys(images);
            const out = (await stack.outputs()) as { imageId: string; state: string };
            assert.equal(out.imageId, imageId);
            assert.equal(out.state, "available");
            const createdAt = calls.find((c) => c.action === "CreateImage")!.at;
            const describes = calls.filter((c) => c.action === "DescribeImages" && c.at > createdAt);
            const snapshotLooks = calls.filter((c) => c.action === "DescribeSnapshots" && c.at > createdAt);
            const lastLook = describes[describes.length - 1].at;
            assert.ok(lastLook - createdAt > 240_000, `the provider call itself waited ${lastLook - createdAt} ms`);
            // The figure the performance issue tracks: how late completion was noticed, with how many looks.
            console.log(
                `      waited ${Math.round((lastLook - createdAt) / 1000)} s in one create; ` +
                    `noticed ${lastLook - images[imageId].availableAt} ms after availability with ${describes.length} DescribeImages + ${snapshotLooks.length} DescribeSnapshots`,
            );

            assert.equal((await stack.destroy()).code, 0);
            assert.equal(leakCount(await leakedSince(emulator, baseline, [REGION])), 0);
        } finally {
            await stack.remove();
        }
    });
});
