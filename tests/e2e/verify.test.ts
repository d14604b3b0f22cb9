// The verification gate end to end (the repository's program, build mode, golden-ami's own
// builder, a copy): a test script that fails leaves no image, no copy, no instance, and the
// error shows the test instance's console tail; the fixed test passes and the call log shows
// image → test instance launched and terminated → builder terminated → copy.
// The leak audit of the root hooks runs after the test (instances included).
import * as assert from "node:assert/strict";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { Emulator, EmulatorCall } from "../support/emulator";
import { PulumiStack, said } from "../support/pulumi";

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
});
