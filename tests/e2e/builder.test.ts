// golden-ami's own builder end to end: the repository's program (index.ts, build mode) with
// `golden-ami:builder` from the base-image lookup, run by the real `pulumi` CLI against the
// emulator, whose builders run their user data (tests/emulator/ext_instances.py).
// - builder → ready → image → builder terminated → copy, in that order in the call log; a
//   no-op preview and a clean refresh relaunch nothing; nothing left after destroy;
// - SIGKILL of the whole `pulumi up` tree while the builder customises, then `up`: the one
//   builder launched is found by its ClientToken, one image;
// - a failing customisation: the error shows the console tail, nothing is left; the fixed
//   recipe with keepBuilder builds and keeps exactly one stopped builder; a recipe change
//   terminates it only after the next generation's image exists.
// The leak audit of the root hooks runs after every test (instances included).
import * as assert from "node:assert/strict";
import { DescribeInstancesCommand, Instance } from "@aws-sdk/client-ec2";
import { Emulator, EmulatorCall, pollUntil } from "../support/emulator";
import { killTree, PulumiStack, said } from "../support/pulumi";

const REGION = "us-east-1";
const COPY_REGION = "eu-west-1";
const BASE = { ssmParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" };
const GOOD = "#!/bin/bash\nset -euo pipefail\necho 'installing nginx'\necho customised\nshutdown -h now\n";
const FAILING = "#!/bin/bash\nset -e\ntrap 'echo GOLDEN-AMI-FAILED; shutdown -h now' ERR\necho 'installing nginx'\nexit 7\n";
const MUTATING = /^(Create|Copy|Modify|Deregister|Register|Delete|Stop|Start|Run|Terminate|Enable|Disable)/;

describe("e2e: golden-ami's own builder (launch, readiness, terminate after the image)", function () {
    let emulator: Emulator;

    before(async () => {
        emulator = await Emulator.start({
            timing: { instancePending: 0.5, userDataSeconds: 1.5, instanceStopping: 0.5, instanceTerminating: 0.5, imagePending: 1.5, copyPending: 1.5 },
        });
    });
    after(async () => {
        await emulator?.stop();
    });

    function stackOf(config: Record<string, string>): Promise<PulumiStack> {
        return PulumiStack.create({
            program: "golden",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, "golden-ami:mode": "build", ...config },
        });
    }

    /** Every instance golden-ami's builders launched (any state). */
    async function builders(): Promise<Instance[]> {
        const out = await emulator.ec2(REGION).send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:golden-ami:managed-by", Values: ["golden-ami"] }] }));
        return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    }

    const ok = (calls: EmulatorCall[], action: string) => calls.filter((c) => c.action === action && c.status === 200);
    const firstAt = (calls: EmulatorCall[], action: string) => ok(calls, action)[0]?.at ?? Infinity;

    it("builds from the lookup: RunInstances → ready → CreateImage → TerminateInstances → CopyImage; a no-op up relaunches nothing", async () => {
        const stack = await stackOf({
            "golden-ami:builder": JSON.stringify({ baseImage: BASE, userData: GOOD, tags: { team: "platform" } }),
            "golden-ami:copyToRegions": JSON.stringify([COPY_REGION]),
        });
        try {
            await emulator.resetCalls();
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const { calls, images } = await emulator.calls();
            const order = ["RunInstances", "GetConsoleOutput", "CreateImage", "TerminateInstances", "CopyImage"].map((a) => firstAt(calls, a));
            assert.ok(order.every((at, i) => at !== Infinity && (i === 0 || at >= order[i - 1])), `order in the call log: ${order.join(" ")}`);
            assert.equal(ok(calls, "RunInstances").length, 1, "one launch");
            assert.equal(ok(calls, "StopInstances").length, 0, "the builder powered itself off");
            const made = Object.values(images);
            assert.equal(made.filter((e) => e.kind === "create").length, 1);
            assert.equal(made.filter((e) => e.kind === "copy").length, 1);

            const [builder] = await builders();
            assert.equal(builder.State?.Name, "terminated", "the builder is terminated once the image is available");
            assert.equal(builder.MetadataOptions?.HttpTokens, "required", "IMDSv2 required");
            const tags = Object.fromEntries((builder.Tags ?? []).map((t) => [t.Key, t.Value]));
            assert.equal(tags.team, "platform");
            const image = Object.values(images).find((e) => e.kind === "create")!;
            assert.equal(image.instanceId, builder.InstanceId, "the image was made from the builder");

            await emulator.resetCalls();
            const refresh = await stack.refresh(["--expect-no-changes"]);
            assert.equal(refresh.code, 0, `a terminated builder refreshes clean\n${refresh.stdout}${refresh.stderr}`);
            const again = await stack.up(["--expect-no-changes"]);
            assert.equal(again.code, 0, again.stdout + again.stderr);
            const mutating = (await emulator.calls()).calls.filter((c) => MUTATING.test(c.action)).map((c) => c.action);
            assert.deepEqual(mutating, [], "refresh and a no-op up launch or change nothing");
            assert.equal((await builders()).length, 1);
            assert.equal((await stack.destroy()).code, 0);
        } finally {
            await stack.remove();
        }
    });

    it("SIGKILL of the whole `pulumi up` while the builder customises, then up: one builder ever launched, one image", async () => {
        const before = (await builders()).length;
        const slow = GOOD.replace("echo customised", "sleep 6\necho customised");
        const stack = await stackOf({ "golden-ami:builder": JSON.stringify({ baseImage: BASE, userData: slow }) });
        try {
            await emulator.resetCalls();
            const child = stack.spawnUp();
            await pollUntil(async () => ok((await emulator.calls()).calls, "RunInstances").length, (n) => n > 0, {
                timeoutMs: 120_000, intervalMs: 200, what: "RunInstances of the first pulumi up",
            });
            killTree(child.pid!);
            await new Promise((resolve) => child.once("exit", resolve));
            const launched = (await builders()).filter((b) => b.State?.Name !== "terminated");
            assert.equal(launched.length, 1);
            assert.notEqual(launched[0].State?.Name, "stopped", "killed while the builder was still customising");

            assert.equal((await stack.run(["cancel", "--yes"])).code, 0);
            const rerun = await stack.up();
            assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
            const { calls, images } = await emulator.calls();
            assert.equal(ok(calls, "RunInstances").length, 1, "the re-run launched nothing: it found the builder by its ClientToken");
            assert.equal((await builders()).length - before, 1, "exactly one builder was ever launched");
            const created = Object.values(images).filter((e) => e.kind === "create");
            assert.equal(created.length, 1, "one image");
            assert.equal(created[0].instanceId, launched[0].InstanceId);
            assert.equal((await stack.destroy()).code, 0);
        } finally {
            await stack.remove();
        }
    });

    it("a failing customisation: error with the console tail, nothing left; the fixed recipe with keepBuilder keeps one stopped builder until the next generation", async () => {
        const before = new Set((await builders()).map((b) => b.InstanceId));
        const stack = await stackOf({
            "golden-ami:builder": JSON.stringify({ baseImage: BASE, userData: FAILING }),
            "golden-ami:copyToRegions": JSON.stringify([COPY_REGION]),
        });
        const ours = async () => (await builders()).filter((b) => !before.has(b.InstanceId));
        try {
            await emulator.resetCalls();
            const failed = await stack.up();
            assert.notEqual(failed.code, 0, "the up fails");
            assert.ok(said(failed, "GOLDEN-AMI-FAILED") && said(failed, "installing nginx") && said(failed, /Failed running .*\[7\]/), failed.stdout + failed.stderr);
            assert.ok(said(failed, "Last console output"), "the console tail is shown");
            const { calls, images } = await emulator.calls();
            assert.equal(Object.keys(images).length, 0, "no image, no copy");
            assert.equal(ok(calls, "CopyImage").length, 0);
            assert.deepEqual((await ours()).map((b) => b.State?.Name), ["terminated"], "the failed builder was terminated");

            await stack.setConfig({ "golden-ami:builder": JSON.stringify({ baseImage: BASE, userData: GOOD }), "golden-ami:keepBuilder": "true" });
            const fixed = await stack.up();
            assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
            const kept = (await ours()).filter((b) => b.State?.Name !== "terminated");
            assert.deepEqual(kept.map((b) => b.State?.Name), ["stopped"], "exactly one builder left, stopped");

            await emulator.resetCalls();
            await stack.setConfig({ "golden-ami:builder": JSON.stringify({ baseImage: BASE, userData: GOOD.replace("nginx", "httpd") }) });
            const next = await stack.up();
            assert.equal(next.code, 0, next.stdout + next.stderr);
            const log = (await emulator.calls()).calls;
            const terminatedOld = log.find((c) => c.action === "TerminateInstances" && c.status === 200);
            assert.ok(terminatedOld && terminatedOld.at > firstAt(log, "CreateImage"), "the old builder is terminated after the new image was made");
            const live = (await ours()).filter((b) => b.State?.Name !== "terminated");
            assert.equal(live.length, 1);
            assert.notEqual(live[0].InstanceId, kept[0].InstanceId, "the kept builder is the new generation's");
            assert.equal((await stack.destroy()).code, 0);
            assert.equal((await ours()).filter((b) => b.State?.Name !== "terminated").length, 0, "destroy terminated the kept builder");
        } finally {
            await stack.remove();
        }
    });
});
