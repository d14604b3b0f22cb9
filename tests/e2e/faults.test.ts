// End-to-end faults on the real Pulumi engine against the emulator, for InstanceImage and for
// ImageCopy: a throttling storm for a whole build, an image (or copy) that ends `failed`, an
// image (or copy) deregistered behind Pulumi's back. Each case ends with a leak audit. (SIGKILL of `pulumi up` during the image wait and a timed-out
// wait resumed by the next `pulumi up` are in tests/e2e/instance-image.test.ts; the
// reliability summary counts them too when they run.)
import * as assert from "node:assert/strict";
import { randomBytes } from "crypto";
import { CreateImageCommand, DeregisterImageCommand, DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { AccountInventory, inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator, EmulatorCall } from "../support/emulator";
import { PulumiStack, RunResult, said } from "../support/pulumi";
import { recordLeakAudit } from "../support/reliability-summary";

const REGION = "us-east-1";
const TYPE = "pulumi-nodejs:dynamic/golden-ami:InstanceImage";
const MARKER_SOURCE = "golden-ami:source-instance";
const COPY_TYPE = "pulumi-nodejs:dynamic/golden-ami:ImageCopy";
const COPY_REGIONS = [REGION, "eu-west-1", "us-west-2"];

/** The leak audit each case ends with, over `regions`: no image or snapshot new since `baseline`. */
async function auditLeaks(emulator: Emulator, baseline: AccountInventory, regions: string[], what: string): Promise<void> {
    await emulator.configure({ throttle: null });
    const leaks = await leakedSince(emulator, baseline, regions);
    recordLeakAudit(what, leakCount(leaks));
    assert.equal(leakCount(leaks), 0, `leaked: ${JSON.stringify(leaks)}`);
}

/**
 * Runs `command` (a `pulumi up` or `destroy`) with 30% of EC2 calls throttled (seeded, so a
 * run is reproducible); the command must succeed. Returns what EC2 saw during it.
 */
async function inStorm(emulator: Emulator, seed: number, command: () => Promise<RunResult>) {
    await emulator.resetCalls();
    await emulator.configure({ throttle: { fraction: 0.3, seed } });
    let result: RunResult;
    try {
        result = await command();
    } finally {
        await emulator.configure({ throttle: null });
    }
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const seen = await emulator.calls();
    return { ...seen, throttled: seen.calls.filter((c) => c.throttled) };
}

/** "8 of 19 EC2 calls throttled (CreateImage, DescribeSnapshots)". */
function stormSummary(calls: EmulatorCall[], throttled: EmulatorCall[]): string {
    return `${throttled.length} of ${calls.length} EC2 calls throttled (${[...new Set(throttled.map((c) => c.action))].sort().join(", ")})`;
}

describe("e2e faults: InstanceImage", function () {
    let emulator: Emulator;
    let baseline: AccountInventory;

    before(async () => {
        emulator = await Emulator.start({ timing: { instancePending: 1, instanceStopping: 2, imagePending: 3 } });
    });

    after(async () => {
        await emulator?.stop();
    });

    beforeEach(async () => {
        await emulator.configure({ throttle: null });
        baseline = await inventory(emulator, [REGION]);
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

    async function assertNothingLeaked(what: string): Promise<void> {
        await auditLeaks(emulator, baseline, [REGION], what);
    }

    /** Images of the account made from this instance (golden-ami's marker tag), live ones only. */
    async function imagesOf(instanceId: string): Promise<string[]> {
        const out = await emulator.ec2(REGION).send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: `tag:${MARKER_SOURCE}`, Values: [instanceId] }] }));
        return (out.Images ?? []).filter((i) => i.State !== "deregistered").map((i) => i.ImageId!);
    }

    it("30% of EC2 calls throttled (seed 7) for a whole build and its destroy: completes with exactly one image", async () => {
        // A longer image wait: more polls, so the storm also hits the waiter's DescribeImages/DescribeSnapshots.
        await emulator.configure({ timing: { imagePending: 10 } });
        const { stack, instanceId } = await newStack({ tags: JSON.stringify({ team: "platform" }) });
        try {
            const { calls, images, throttled } = await inStorm(emulator, 7, () => stack.up());
            assert.ok(throttled.length > 0, "the storm really throttled some calls");
            const creates = calls.filter((c) => c.action === "CreateImage" && c.status === 200);
            assert.equal(creates.length, 1, "exactly one CreateImage reached EC2");
            assert.equal(Object.keys(images).length, 1, "exactly one image was made");
            const [made] = Object.keys(images);
            assert.deepEqual(await imagesOf(instanceId), [made], "exactly one image of this instance exists");
            const inState = await stack.resourcesOfType(TYPE);
            assert.equal(inState.length, 1);
            assert.equal(inState[0].id, made);
            assert.equal(inState[0].outputs?.state, "available");
            console.log(`      ${stormSummary(calls, throttled)}; one image ${made}`);

            const destroyed = await inStorm(emulator, 7, () => stack.destroy());
            console.log(`      destroy: ${stormSummary(destroyed.calls, destroyed.throttled)}`);
            await assertNothingLeaked("throttled build");
        } finally {
            await emulator.configure({ throttle: null, timing: { imagePending: 3 } });
            await stack.remove();
        }
    });

    it("an image that ends `failed`: `pulumi up` fails quoting EC2's StateReason, nothing is orphaned, the next `pulumi up` succeeds", async () => {
        const { stack } = await newStack();
        const reason = `golden-ami fault test ${randomBytes(4).toString("hex")}: the snapshot could not be copied`;
        try {
            await emulator.resetCalls();
            await emulator.configure({ failNext: { kind: "create", code: "Server.InternalError", message: reason } });
            const first = await stack.up();
            assert.notEqual(first.code, 0, "the first up fails");
            assert.ok(said(first, reason), `quotes the StateReason: ${first.stdout}\n${first.stderr}`);
            const { images } = await emulator.calls();
            const failed = Object.keys(images);
            assert.equal(failed.length, 1);
            assert.equal(images[failed[0]].state, "failed", "the emulator made the image fail");
            assert.equal((await stack.resourcesOfType(TYPE)).length, 0, "the failed image is not in state");
            // Nothing orphaned: the failed image and its snapshots are gone right away (not only after destroy).
            await assertNothingLeaked("failed image");

            // The fault was one-off: the next `pulumi up` builds the image.
            const second = await stack.up();
            assert.equal(second.code, 0, second.stdout + second.stderr);
            const inState = await stack.resourcesOfType(TYPE);
            assert.equal(inState.length, 1);
            assert.notEqual(inState[0].id, failed[0], "a new image, not the failed one");
            assert.equal(inState[0].outputs?.state, "available");

            assert.equal((await stack.destroy()).code, 0);
            await assertNothingLeaked("failed image, then rebuilt");
        } finally {
            await stack.remove();
        }
    });

    it("an AMI deregistered out of band: `pulumi refresh` keeps it marked deregistered (its snapshots are left), `pulumi up` replaces it and deletes them", async () => {
        const { stack, instanceId } = await newStack();
        try {
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const [before] = await stack.resourcesOfType(TYPE);
            const gone = before.id!;
            const leftover = (before.outputs?.snapshotIds as string[]) ?? [];
            assert.ok(leftover.length > 0);

            // Someone deregisters the image by hand (as `aws ec2 deregister-image` does, snapshots stay).
            await emulator.ec2(REGION).send(new DeregisterImageCommand({ ImageId: gone }));

            const refresh = await stack.refresh();
            assert.equal(refresh.code, 0, refresh.stdout + refresh.stderr);
            const [marked] = await stack.resourcesOfType(TYPE);
            assert.equal(marked?.id, gone, "refresh keeps the resource while its snapshots exist");
            assert.equal(marked.outputs?.state, "deregistered");
            assert.deepEqual(marked.outputs?.snapshotIds, leftover);

            await emulator.resetCalls();
            const again = await stack.up();
            assert.equal(again.code, 0, again.stdout + again.stderr);
            const [after] = await stack.resourcesOfType(TYPE);
            assert.ok(after?.id && after.id !== gone, `a new image replaces ${gone}: ${after?.id}`);
            assert.equal(after.outputs?.state, "available");
            const calls = (await emulator.calls()).calls;
            assert.equal(calls.filter((c) => c.action === "CreateImage" && c.status === 200).length, 1);
            assert.equal(calls.filter((c) => c.action === "DeleteSnapshot" && c.status === 200).length, leftover.length, "the leftover snapshots deleted");
            assert.deepEqual(await imagesOf(instanceId), [after.id]);

            const refreshed = await stack.refresh(["--expect-no-changes"]);
            assert.equal(refreshed.code, 0, refreshed.stdout + refreshed.stderr);
            assert.equal((await stack.destroy()).code, 0);
            await assertNothingLeaked("deregistered out of band");
        } finally {
            await stack.remove();
        }
    });

});

describe("e2e faults: ImageCopy", function () {
    let emulator: Emulator;
    let baseline: AccountInventory;
    let sourceImageId: string;

    before(async () => {
        emulator = await Emulator.start({ timing: { copyPending: 3 } });
        const instanceId = await emulator.launchInstance(REGION);
        const made = await emulator.ec2(REGION).send(new CreateImageCommand({ InstanceId: instanceId, Name: `faults-copy-source-${Date.now()}` }));
        sourceImageId = made.ImageId!;
    });

    after(async () => {
        await emulator?.stop();
    });

    beforeEach(async () => {
        await emulator.configure({ throttle: null });
        baseline = await inventory(emulator, COPY_REGIONS);
    });

    function newStack(copies: Record<string, Record<string, unknown>>): Promise<PulumiStack> {
        return PulumiStack.create({
            program: "image-copy",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, sourceImageId, sourceRegion: REGION, copies: JSON.stringify(copies) },
        });
    }

    /** Images of the account in `region` that were not there at the start of the case. */
    async function newImagesIn(region: string): Promise<string[]> {
        const out = await emulator.ec2(region).send(new DescribeImagesCommand({ Owners: ["self"] }));
        return (out.Images ?? []).filter((i) => i.State !== "deregistered" && !baseline.images[region].includes(i.ImageId!)).map((i) => i.ImageId!);
    }

    it("30% of EC2 calls throttled (seed 11) while copying into two regions and destroying: exactly one copy per region", async () => {
        await emulator.configure({ timing: { copyPending: 8 } });
        const stack = await newStack({ "storm-eu": { region: "eu-west-1" }, "storm-usw": { region: "us-west-2" } });
        try {
            const { calls, images, throttled } = await inStorm(emulator, 11, () => stack.up());
            assert.ok(throttled.length > 0, "the storm really throttled some calls");
            const copies = Object.entries(images).filter(([, e]) => e.kind === "copy");
            assert.deepEqual(copies.map(([, e]) => e.region).sort(), ["eu-west-1", "us-west-2"], JSON.stringify(images));
            const inState = await stack.resourcesOfType(COPY_TYPE);
            assert.deepEqual(inState.map((r) => r.id).sort(), copies.map(([id]) => id).sort());
            for (const r of inState) assert.equal(r.outputs?.state, "available");
            for (const region of ["eu-west-1", "us-west-2"]) {
                assert.equal((await newImagesIn(region)).length, 1, `exactly one copy in ${region}`);
            }
            console.log(`      ${stormSummary(calls, throttled)}; one copy per region`);

            await inStorm(emulator, 11, () => stack.destroy());
            await auditLeaks(emulator, baseline, COPY_REGIONS, "throttled copies");
        } finally {
            await emulator.configure({ throttle: null, timing: { copyPending: 3 } });
            await stack.remove();
        }
    });

    it("a copy that ends `failed`: `pulumi up` fails quoting EC2's StateReason, nothing is orphaned, the next `pulumi up` succeeds", async () => {
        const stack = await newStack({ "fails-eu": { region: "eu-west-1" } });
        const reason = `golden-ami fault test ${randomBytes(4).toString("hex")}: snapshot copy ran out of capacity`;
        try {
            await emulator.resetCalls();
            await emulator.configure({ failNext: { kind: "copy", code: "Client.InternalError", message: reason } });
            const first = await stack.up();
            assert.notEqual(first.code, 0, "the first up fails");
            assert.ok(said(first, reason), `quotes the StateReason: ${first.stdout}\n${first.stderr}`);
            const failed = Object.entries((await emulator.calls()).images).filter(([, e]) => e.kind === "copy");
            assert.equal(failed.length, 1);
            assert.equal(failed[0][1].state, "failed", "the emulator made the copy fail");
            assert.equal((await stack.resourcesOfType(COPY_TYPE)).length, 0, "the failed copy is not in state");
            await auditLeaks(emulator, baseline, COPY_REGIONS, "failed copy");

            const second = await stack.up();
            assert.equal(second.code, 0, second.stdout + second.stderr);
            const inState = await stack.resourcesOfType(COPY_TYPE);
            assert.equal(inState.length, 1);
            assert.notEqual(inState[0].id, failed[0][0], "a new copy, not the failed one");
            assert.equal(inState[0].outputs?.state, "available");

            assert.equal((await stack.destroy()).code, 0);
            await auditLeaks(emulator, baseline, COPY_REGIONS, "failed copy, then copied again");
        } finally {
            await stack.remove();
        }
    });

    it("a copy deregistered out of band: `pulumi refresh` keeps it marked deregistered, `pulumi up` copies again and deletes the leftover snapshots", async () => {
        const stack = await newStack({ "gone-eu": { region: "eu-west-1" } });
        try {
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const [before] = await stack.resourcesOfType(COPY_TYPE);
            const gone = before.id!;
            const leftover = (before.outputs?.snapshotIds as string[]) ?? [];
            assert.ok(leftover.length > 0);

            await emulator.ec2("eu-west-1").send(new DeregisterImageCommand({ ImageId: gone }));

            const refresh = await stack.refresh();
            assert.equal(refresh.code, 0, refresh.stdout + refresh.stderr);
            const [marked] = await stack.resourcesOfType(COPY_TYPE);
            assert.equal(marked?.id, gone, "refresh keeps the copy while its snapshots exist");
            assert.equal(marked.outputs?.state, "deregistered");

            const again = await stack.up();
            assert.equal(again.code, 0, again.stdout + again.stderr);
            const [after] = await stack.resourcesOfType(COPY_TYPE);
            assert.ok(after?.id && after.id !== gone, `a new copy replaces ${gone}: ${after?.id}`);
            assert.equal(after.outputs?.state, "available");
            assert.deepEqual(await newImagesIn("eu-west-1"), [after.id]);

            const refreshed = await stack.refresh(["--expect-no-changes"]);
            assert.equal(refreshed.code, 0, refreshed.stdout + refreshed.stderr);
            assert.equal((await stack.destroy()).code, 0);
            await auditLeaks(emulator, baseline, COPY_REGIONS, "copy deregistered out of band");
        } finally {
            await stack.remove();
        }
    });

});
