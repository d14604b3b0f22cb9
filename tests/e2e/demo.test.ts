// The main job, exactly as the README runs it: `npm run demo`, then `npm run demo -- --destroy`.
// On an emulator this process starts and hands to the demo (GA_DEMO_EMULATOR), so the leak
// audit after every e2e test (tests/support/root-hooks.ts) covers what the demo did, as for
// every other e2e test.
import * as assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DescribeImagesCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { REPO_ROOT } from "../support/pulumi";

/** A region's own images and its instances that are not terminated, as the emulator holds them. */
async function regionState(emulator: Emulator, region: string) {
    const client = emulator.ec2(region);
    const images = (await client.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images ?? [];
    const reservations = (await client.send(new DescribeInstancesCommand({}))).Reservations ?? [];
    const instances = reservations.flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== "terminated");
    return { images, instances };
}

function demo(args: string[], demoDir: string, endpoint: string): { code: number; output: string } {
    const result = spawnSync("bash", [path.join(REPO_ROOT, "scripts", "demo.sh"), ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, GA_DEMO_DIR: demoDir, GA_DEMO_EMULATOR: endpoint },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    return { code: result.status ?? 1, output: `${result.stdout}\n${result.stderr}` };
}

describe("e2e: the demo (npm run demo)", function () {
    const demoDir = path.join(REPO_ROOT, ".ga", `demo-test-${process.pid}`);
    let emulator: Emulator;

    before(async function () {
        emulator = await Emulator.start();
    });

    after(async () => {
        if (emulator && fs.existsSync(demoDir)) demo(["--destroy"], demoDir, emulator.endpoint);
        fs.rmSync(demoDir, { recursive: true, force: true });
        await emulator?.stop();
    });

    it("builds, copies and consumes the golden image, printing the AMI per region; --destroy removes everything", async () => {
        const run = demo([], demoDir, emulator.endpoint);
        assert.equal(run.code, 0, run.output);
        for (const region of ["us-east-1", "eu-west-1", "ap-southeast-2"]) {
            assert.match(run.output, new RegExp(`^  ${region}\\s+ami-[0-9a-f]+\\s`, "m"), `no AMI line for ${region}\n${run.output}`);
        }
        const regional = /^  ap-southeast-2\s+(ami-[0-9a-f]+)/m.exec(run.output)![1];
        assert.match(run.output, new RegExp(`consumer consumer-ap-southeast-2 resolved ${regional}`), "the consumer read the regional stack's AMI");
        // The consumer's instances, from the emulator's state: two, from the region's golden AMI, one per zone.
        const { images, instances } = await regionState(emulator, "ap-southeast-2");
        assert.deepEqual(images.map((i) => i.ImageId), [regional], "the region's only image is the regional stack's copy");
        assert.equal(instances.length, 2, `instances in ap-southeast-2: ${instances.map((i) => i.InstanceId).join(", ")}`);
        assert.deepEqual(instances.map((i) => i.ImageId), [regional, regional], "launched from the golden AMI");
        assert.deepEqual(instances.map((i) => i.Placement?.AvailabilityZone).sort(), ["ap-southeast-2a", "ap-southeast-2b"]);
        // The build stack ran GoldenImage's own builder from the base-image lookup, and terminated it once imaged.
        assert.match(run.output, /pulumi up build-us-east-1: look up the base image/);
        const build = await regionState(emulator, "us-east-1");
        assert.equal(build.instances.length, 0, `the builder is terminated: ${build.instances.map((i) => `${i.InstanceId} ${i.State?.Name}`).join(", ")}`);
        assert.equal(build.images.length, 1, "one golden image in the build region");

        // The demo ran on this emulator (so the audit after this test covers it): its calls, signed with its key.
        const { calls } = await emulator.calls();
        assert.ok(calls.some((c) => c.action === "CreateImage" && c.accessKeyId === "demo"), "the demo's CreateImage reached the emulator the test audits");

        const destroyed = demo(["--destroy"], demoDir, emulator.endpoint);
        assert.equal(destroyed.code, 0, destroyed.output);
        assert.match(destroyed.output, /everything removed; the emulator at \S+ is left running/);
        for (const region of ["us-east-1", "eu-west-1", "ap-southeast-2"]) {
            assert.match(destroyed.output, new RegExp(`${region}\\s+images left: 0, snapshots left: 0, instances left: 0`));
        }
        assert.ok(!fs.existsSync(demoDir), "the demo state is removed");
    });
});
