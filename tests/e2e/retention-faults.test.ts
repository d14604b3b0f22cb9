// Retention under faults, end to end: the repository's program (index.ts, build mode, one copy
// region) run by the real `pulumi` CLI against the EC2 emulator.
// - SIGKILL of the whole `pulumi up` tree in the middle of retention (a fourth rebuild with
//   retention.keep 0: generations 1-3 go in both regions; DeregisterImage is slowed by the
//   emulator's latency control so the kill lands between two of them, right after the first
//   succeeded, as the call log shows), then `pulumi cancel` and `pulumi up` under 30% throttling:
//   it converges (only generation 4 left, with its snapshots; none of 1-3's), and the call log
//   shows no image deregistered and no snapshot deleted after it was gone already.
// - retention.disableAfter "0s": generations 4 and 5, retired, are disabled in both regions (still
//   generations of the lineage). Destroy with deregistration protection on one of them (5): the engine's output names
//   the image and says what to do; only that image and its snapshots are left, in every region;
//   once protection is off, the documented clean-up removes them.
// The leak audit of the root hooks runs after every test.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { AccountInventory, inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator, EmulatorCall, pollUntil } from "../support/emulator";
import { generationsStack, killTree, PulumiStack } from "../support/pulumi";

const BUILD = "us-east-1";
const COPY = "eu-west-1";
const REGIONS = [BUILD, COPY];
const LINEAGE_TAG = "golden-ami:lineage";

interface Outputs {
    imageId: string;
    generation: number;
    regionImageIds: Record<string, string>;
    retention: Record<string, { disabled?: Array<{ imageId: string; generation: number }> }>;
}

describe("e2e: retention under faults (SIGKILL mid-retention, throttling, protected generations)", function () {
    let emulator: Emulator;
    let baseline: AccountInventory;
    let stack: PulumiStack;
    let next: () => Promise<Record<string, unknown>>;
    const generations: Outputs[] = [];

    before(async () => {
        emulator = await Emulator.start({ timing: { imagePending: 0.5, copyPending: 0.5 } });
        baseline = await inventory(emulator, REGIONS);
        ({ stack, rebuild: next } = await generationsStack(emulator, { build: BUILD, copy: COPY }, { "golden-ami:retention": JSON.stringify({ keep: 5, launchedWithin: "0s" }) }));
    });
    after(async () => {
        await stack?.remove();
        await emulator?.stop();
    });

    /** The next generation: its outputs, recorded in `generations`. */
    const rebuild = async (): Promise<Outputs> => generations[generations.push((await next()) as unknown as Outputs) - 1];

    /** The account's images of golden-ami lineages in a region (deprecated and disabled included). */
    async function lineageImages(region: string): Promise<ec2.Image[]> {
        const out = await emulator.ec2(region).send(
            new ec2.DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "tag-key", Values: [LINEAGE_TAG] }], IncludeDeprecated: true, IncludeDisabled: true }),
        );
        return out.Images ?? [];
    }
    const snapshotsOf = (image: ec2.Image) => (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((s): s is string => !!s);
    async function existingSnapshots(region: string, ids: string[]): Promise<string[]> {
        if (ids.length === 0) return [];
        const out = await emulator.ec2(region).send(new ec2.DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: "snapshot-id", Values: ids }] }));
        return (out.Snapshots ?? []).map((s) => s.SnapshotId!);
    }

    /** Calls of `action` that named a resource after a call of `gone` had already removed it (200). */
    function afterGone(calls: EmulatorCall[], action: string, goneAt: Map<string, number>): EmulatorCall[] {
        return calls.filter((c) => c.action === action && c.target !== undefined && goneAt.has(c.target) && c.at > goneAt.get(c.target)!);
    }

    it("SIGKILL mid-retention, then `pulumi up` under 30% throttling: converges to generation 4 alone; nothing deleted twice", async () => {
        for (let i = 0; i < 3; i++) await rebuild();
        assert.deepEqual(generations.map((g) => g.generation), [1, 2, 3]);
        const retired = new Map<string, ec2.Image[]>();
        for (const region of REGIONS) {
            const images = await lineageImages(region);
            assert.equal(images.length, 3, `generations 1-3 kept in ${region} (keep 5)`);
            retired.set(region, images);
        }

        await stack.setConfig({
            "golden-ami:existingInstanceId": await emulator.launchInstance(BUILD),
            "golden-ami:retention": JSON.stringify({ keep: 0, launchedWithin: "0s" }),
        });
        await emulator.configure({ latency: { DeregisterImage: 1 } });
        await emulator.resetCalls();
        const child = stack.spawnUp();
        await pollUntil(
            async () => (await emulator.calls()).calls.some((c) => c.action === "DeregisterImage" && c.status === 200),
            (started) => started,
            { timeoutMs: 180_000, intervalMs: 100, what: "the first DeregisterImage of retention" },
        );
        killTree(child.pid!);
        await new Promise((resolve) => child.once("exit", resolve));
        await emulator.configure({ latency: null });
        // Mid-way: the build region has lost at least one generation, the copy region (its copy of generation 4 not made yet) none.
        assert.ok((await lineageImages(BUILD)).length < 4, "retention had started in the build region");
        assert.equal((await lineageImages(COPY)).length, 3, "the copy region's retention had not started");

        assert.equal((await stack.run(["cancel", "--yes"])).code, 0);
        await emulator.configure({ throttle: { fraction: 0.3, seed: 12 } });
        const rerun = await stack.up();
        await emulator.configure({ throttle: null });
        assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
        const g4 = (await stack.outputs()) as unknown as Outputs;
        assert.equal(g4.generation, 4);
        generations.push(g4);

        for (const region of REGIONS) {
            const left = await lineageImages(region);
            assert.deepEqual(left.map((i) => i.ImageId), [g4.regionImageIds[region]], `only generation 4 left in ${region}`);
            const current = snapshotsOf(left[0]);
            assert.deepEqual(await existingSnapshots(region, current), current, `generation 4's snapshots in ${region}`);
            const removed = retired.get(region)!.flatMap(snapshotsOf);
            assert.ok(removed.length >= 3);
            assert.deepEqual(await existingSnapshots(region, removed), [], `no snapshot of generations 1-3 left in ${region}`);
        }

        const { calls } = await emulator.calls();
        assert.ok(calls.some((c) => c.throttled), "the re-run was throttled");
        const deregistered = new Map<string, number>();
        const snapshotGone = new Map<string, number>();
        for (const c of calls.filter((c) => c.status === 200).sort((a, b) => a.at - b.at)) {
            if (c.action === "DeregisterImage" && !deregistered.has(c.target!)) {
                deregistered.set(c.target!, c.at);
                // DeleteAssociatedSnapshots: its snapshots went with it.
                const image = [...retired.values()].flat().find((i) => i.ImageId === c.target);
                for (const s of image ? snapshotsOf(image) : []) snapshotGone.set(s, c.at);
            }
            if (c.action === "DeleteSnapshot" && !snapshotGone.has(c.target!)) snapshotGone.set(c.target!, c.at);
        }
        assert.equal(deregistered.size, 6, "generations 1-3 deregistered in both regions, each once");
        assert.deepEqual(afterGone(calls, "DeregisterImage", deregistered), [], "no image deregistered again");
        assert.deepEqual(afterGone(calls, "DeleteSnapshot", snapshotGone), [], "no snapshot deleted again");
    });

    it("disableAfter, then destroy with deregistration protection on one retired generation: reported with what to do; only it and its snapshots are left; then cleaned", async () => {
        await stack.setConfig({ "golden-ami:retention": JSON.stringify({ keep: 2, launchedWithin: "0s", disableAfter: "0s" }) });
        await rebuild();
        const g6 = await rebuild();
        assert.equal(g6.generation, 6);
        const g5 = generations[generations.length - 2];
        for (const region of REGIONS) {
            assert.deepEqual(g6.retention[region].disabled, [{ imageId: g5.regionImageIds[region], generation: 5 }], `generation 5 disabled in ${region}`);
            const states = (await lineageImages(region)).map((i) => [i.ImageId, i.State] as const);
            assert.deepEqual(new Map(states), new Map([[generations[3].regionImageIds[region], "disabled"], [g5.regionImageIds[region], "disabled"], [g6.regionImageIds[region], "available"]]));
        }
        const protectedId = g5.imageId;
        await emulator.ec2(BUILD).send(new ec2.EnableImageDeregistrationProtectionCommand({ ImageId: protectedId }));
        const [image] = (await emulator.ec2(BUILD).send(new ec2.DescribeImagesCommand({ ImageIds: [protectedId], IncludeDisabled: true }))).Images!;
        const protectedSnapshots = snapshotsOf(image);

        const destroy = await stack.destroy();
        assert.equal(destroy.code, 0, destroy.stdout + destroy.stderr);
        const output = destroy.stdout + destroy.stderr;
        assert.match(output, new RegExp(`${protectedId} \\(generation 5\\)[^\\n]*deregistration protection is on`), "the engine's output names the protected image");
        assert.match(
            output,
            new RegExp(`disable-image-deregistration-protection --region ${BUILD} --image-id ${protectedId} && aws ec2 deregister-image --region ${BUILD} --image-id ${protectedId} --delete-associated-snapshots`),
            "and says what to do, for that image",
        );

        // The audit's inventory includes disabled images (IncludeDisabled): generation 4, disabled, is gone too.
        const leaks = await leakedSince(emulator, baseline, REGIONS);
        assert.deepEqual(leaks.images, { [BUILD]: [protectedId], [COPY]: [] }, "only the protected image is left");
        assert.deepEqual([...leaks.snapshots[BUILD]].sort(), [...protectedSnapshots].sort(), "with its snapshots");
        assert.deepEqual(leaks.snapshots[COPY], []);

        // The documented way: protection off, then deregister with the snapshots.
        await emulator.ec2(BUILD).send(new ec2.DisableImageDeregistrationProtectionCommand({ ImageId: protectedId }));
        await emulator.ec2(BUILD).send(new ec2.DeregisterImageCommand({ ImageId: protectedId, DeleteAssociatedSnapshots: true }));
        const after = await leakedSince(emulator, baseline, REGIONS);
        assert.equal(leakCount(after), 0, `left: ${JSON.stringify(after)}`);
    });
});
