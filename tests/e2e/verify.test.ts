// The verification gate end to end (the repository's program, build mode, golden-ami's own
// builder, a copy): a test script that fails leaves no image, no copy, no instance, and the
// error shows the test instance's console tail; the fixed test passes and the call log shows
// image → test instance launched and terminated → builder terminated → copy.
// SIGKILL of the whole `pulumi up` tree while the test instance runs its test, then `up`: the
// re-run finds that test instance (its ClientToken, golden-ami's tags) instead of launching a
// second, judges it, terminates it; one image.
// The leak audit of the root hooks runs after the test (instances included).
import * as assert from "node:assert/strict";
import { DescribeInstancesCommand, Instance } from "@aws-sdk/client-ec2";
import { Emulator, EmulatorCall, pollUntil } from "../support/emulator";
import { killTree, PulumiStack, said } from "../support/pulumi";

const REGION = "us-east-1";
const BASE = { ssmParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" };
const BUILD = "#!/bin/bash\nset -e\necho 'installing nginx'\nshutdown -h now\n";
// The test fails before it reaches its success line (the emulator runs the script: `exit 7`, then the ERR trap).
const FAILING_TEST = "#!/bin/bash\nset -e\ntrap 'echo GOLDEN-AMI-FAILED; shutdown -h now' ERR\necho 'curl localhost: connection refused'\nexit 7\necho GOLDEN-AMI-OK\nshutdown -h now\n";
const PASSING_TEST = "#!/bin/bash\nset -e\necho 'curl localhost: 200'\necho GOLDEN-AMI-OK\nshutdown -h now\n";

describe("e2e: the verification gate (verify)", function () {
    let emulator: Emulator;

    before(async () => {
        emulator = await Emulator.start({
            timing: { instancePending: 0.3, userDataSeconds: 1, instanceStopping: 0.3, instanceTerminating: 0.3, imagePending: 1, copyPending: 1 },
        });
    });
    after(async () => {
        await emulator?.stop();
    });

    const ok = (calls: EmulatorCall[], action: string) => calls.filter((c) => c.action === action && c.status === 200);

    async function liveInstances(): Promise<string[]> {
        const out = await emulator.ec2(REGION).send(new DescribeInstancesCommand({}));
        return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== "terminated").map((i) => i.InstanceId!);
    }

    /** Every test instance the gate launched (any state): golden-ami tags each with the image it verifies. */
    async function testInstances(): Promise<Instance[]> {
        const out = await emulator.ec2(REGION).send(new DescribeInstancesCommand({ Filters: [{ Name: "tag-key", Values: ["golden-ami:verifies"] }] }));
        return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    }

    it("a failing test: error with the console tail, no image, no copy, no instance; the fixed test passes before the copy is made", async () => {
        const config = (test: string) => ({
            "golden-ami:builder": JSON.stringify({ baseImage: BASE, userData: BUILD }),
            "golden-ami:verify": JSON.stringify({ userData: test }),
        });
        const stack = await PulumiStack.create({
            program: "golden",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, "golden-ami:mode": "build", "golden-ami:copyToRegions": JSON.stringify(["eu-west-1"]), ...config(FAILING_TEST) },
        });
        try {
            await emulator.resetCalls();
            const failed = await stack.up();
            assert.notEqual(failed.code, 0);
            assert.ok(said(failed, /failed its verification/) && said(failed, "connection refused") && said(failed, "GOLDEN-AMI-FAILED"), failed.stdout + failed.stderr);
            assert.ok(said(failed, "nothing was copied or shared"));
            let log = await emulator.calls();
            assert.equal(ok(log.calls, "CreateImage").length, 1, "the image was made");
            assert.equal(ok(log.calls, "RunInstances").length, 2, "builder and test instance");
            assert.equal(ok(log.calls, "CopyImage").length, 0, "no copy");
            assert.equal(ok(log.calls, "ModifyImageAttribute").length, 0, "nothing shared");
            assert.ok(ok(log.calls, "DeregisterImage").length >= 1, "the failed image was deregistered");
            assert.deepEqual(await liveInstances(), [], "the test instance and the builder are terminated");
            const images = (await stack.resourcesOfType("pulumi-nodejs:dynamic/golden-ami:InstanceImage"));
            assert.equal(images.length, 0, "the rejected image is not in state");

            await emulator.resetCalls();
            await stack.setConfig(config(PASSING_TEST));
            const fixed = await stack.up();
            assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
            log = await emulator.calls();
            const [builderRun, testRun] = ok(log.calls, "RunInstances");
            const created = ok(log.calls, "CreateImage")[0];
            const terminations = ok(log.calls, "TerminateInstances");
            const copy = ok(log.calls, "CopyImage")[0];
            assert.ok(builderRun && testRun && created && copy && terminations.length === 2, JSON.stringify(log.calls.map((c) => c.action)));
            assert.ok(builderRun.at < created.at && created.at < testRun.at, "the test instance is launched from the new image");
            assert.ok(terminations.every((t) => t.at > testRun.at && t.at < copy.at), "both instances are terminated before the copy starts");
            assert.deepEqual(await liveInstances(), []);
            assert.equal((await stack.destroy()).code, 0);
        } finally {
            await stack.remove();
        }
    });

    it("SIGKILL of the whole `pulumi up` while the test instance runs, then up: one test instance ever launched, terminated; one image", async () => {
        const before = new Set((await testInstances()).map((i) => i.InstanceId));
        const slowTest = PASSING_TEST.replace("echo GOLDEN-AMI-OK", "sleep 6\necho GOLDEN-AMI-OK");
        const stack = await PulumiStack.create({
            program: "golden",
            env: emulator.env(REGION),
            config: {
                "aws:region": REGION,
                "golden-ami:mode": "build",
                "golden-ami:builder": JSON.stringify({ baseImage: BASE, userData: BUILD }),
                "golden-ami:verify": JSON.stringify({ userData: slowTest }),
            },
        });
        const ours = async () => (await testInstances()).filter((i) => !before.has(i.InstanceId));
        try {
            await emulator.resetCalls();
            const child = stack.spawnUp();
            await pollUntil(ours, (found) => found.length > 0, { timeoutMs: 120_000, intervalMs: 200, what: "the test instance of the first pulumi up" });
            killTree(child.pid!);
            await new Promise((resolve) => child.once("exit", resolve));
            const [killedRuns] = await ours();
            assert.ok(killedRuns.ClientToken, "the test instance was launched with a ClientToken");
            assert.ok(!["stopped", "shutting-down", "terminated"].includes(killedRuns.State?.Name ?? ""), `killed while the test ran (${killedRuns.State?.Name})`);

            assert.equal((await stack.run(["cancel", "--yes"])).code, 0);
            const rerun = await stack.up();
            assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
            const { calls, images } = await emulator.calls();
            assert.equal(ok(calls, "RunInstances").length, 2, "builder and test instance of the killed run; the re-run launched neither");
            const all = await ours();
            assert.deepEqual(all.map((i) => i.InstanceId), [killedRuns.InstanceId], "exactly one test instance was ever launched");
            assert.equal(all[0].ClientToken, killedRuns.ClientToken);
            assert.equal(all[0].State?.Name, "terminated", "the re-run judged and terminated the killed run's test instance");
            const created = Object.entries(images).filter(([, e]) => e.kind === "create");
            assert.equal(created.length, 1, "the image was made once");
            const verifies = Object.fromEntries((all[0].Tags ?? []).map((t) => [t.Key, t.Value]))["golden-ami:verifies"];
            assert.equal(verifies, created[0][0], "the test instance verified that image");
            assert.deepEqual(await liveInstances(), [], "nothing left running or stopped");
            assert.equal((await stack.destroy()).code, 0);
        } finally {
            await stack.remove();
        }
    });
});
