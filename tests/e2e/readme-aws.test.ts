// The README's "Using it on AWS" section, followed literally: its first bash block (profile,
// customise.sh, the build stack, the regional stack) run by bash, unchanged, against the
// emulator. What the test supplies is what a user's machine has: a logged-in backend, the
// AWS profile `platform` in the shared credentials file, the endpoint (AWS_ENDPOINT_URL, the
// SDK's standard chain), and a confirmed `pulumi up` (PULUMI_SKIP_CONFIRMATIONS, the CLI's
// own equivalent of answering "yes"). The block runs in a project directory whose
// Pulumi.yaml is the repository's with `main` pointing at the repository's index.ts.
import * as assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DescribeImageAttributeCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { REPO_ROOT } from "../support/pulumi";

const PROFILE_KEY = "AKIAREADMEPLATFORM01";

/** The first ```bash block after the section heading. */
function readmeBlock(heading: string): string {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const from = readme.indexOf(heading);
    assert.ok(from >= 0, `README has no "${heading}"`);
    const match = /```bash\n([\s\S]*?)\n```/.exec(readme.slice(from));
    assert.ok(match, `no bash block after "${heading}"`);
    return match[1];
}

describe("e2e: the README's AWS section, literally", function () {
    let emulator: Emulator;
    let dir: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
        emulator = await Emulator.start({ timing: { userDataSeconds: 1, instanceStopping: 0.5, instanceTerminating: 0.5, imagePending: 1, copyPending: 1 } });
        dir = fs.mkdtempSync(path.join(REPO_ROOT, ".ga", "readme-aws-"));
        const project = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8").replace(/^main: .*$/m, `main: ${path.relative(dir, path.join(REPO_ROOT, "index.ts"))}`);
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project);
        fs.mkdirSync(path.join(dir, "state"));
        fs.writeFileSync(path.join(dir, "credentials"), `[platform]\naws_access_key_id = ${PROFILE_KEY}\naws_secret_access_key = readme-secret\n`);
        fs.writeFileSync(path.join(dir, "config"), "");
        env = { ...process.env };
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"]) delete env[key];
        Object.assign(env, {
            AWS_ENDPOINT_URL: emulator.endpoint,
            AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "credentials"),
            AWS_CONFIG_FILE: path.join(dir, "config"),
            PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
            PULUMI_HOME: path.join(dir, "pulumi-home"),
            PULUMI_CONFIG_PASSPHRASE: "readme",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        });
    });
    after(async () => {
        if (dir) {
            for (const stack of ["regional-ap-southeast-2", "build-us-east-1"]) {
                spawnSync("pulumi", ["destroy", "--yes", "--skip-preview", "--non-interactive", "--stack", stack], { cwd: dir, env, stdio: "ignore" });
                spawnSync("pulumi", ["stack", "rm", "--yes", "--force", "--non-interactive", "--stack", stack], { cwd: dir, env, stdio: "ignore" });
            }
            fs.rmSync(dir, { recursive: true, force: true });
        }
        await emulator?.stop();
    });

    it("builds with golden-ami's builder in us-east-1, copies to eu-west-1, shares, and a regional stack copies it to ap-southeast-2", async () => {
        const block = readmeBlock("### One stack per region, with the program in this repository");
        await emulator.resetCalls();
        const run = spawnSync("bash", ["-euo", "pipefail", "-c", block], { cwd: dir, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
        env.AWS_PROFILE = "platform"; // what the block exported stays set in the user's shell (destroy below, and after)
        const { calls } = await emulator.calls(); // before this test's own calls, signed with other keys

        const outputs = (stack: string) =>
            JSON.parse(spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack], { cwd: dir, env, encoding: "utf8" }).stdout) as {
                imageId: string;
                regionImageIds: Record<string, string>;
            };
        const build = outputs("build-us-east-1");
        const regional = outputs("regional-ap-southeast-2");
        assert.deepEqual(Object.keys(build.regionImageIds).sort(), ["eu-west-1", "us-east-1"]);
        assert.deepEqual(Object.keys(regional.regionImageIds), ["ap-southeast-2"]);
        const shared = await emulator.ec2("us-east-1").send(new DescribeImageAttributeCommand({ ImageId: build.imageId, Attribute: "launchPermission" }));
        assert.deepEqual(shared.LaunchPermissions?.map((p) => p.UserId), ["111122223333"]);

        assert.ok(calls.some((c) => c.action === "RunInstances" && c.status === 200), "golden-ami launched the builder");
        const keys = new Set(calls.map((c) => c.accessKeyId));
        assert.deepEqual([...keys], [PROFILE_KEY], "every call was signed with the AWS_PROFILE's credentials");
        const instances = (await emulator.ec2("us-east-1").send(new DescribeInstancesCommand({}))).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
        assert.deepEqual(instances.filter((i) => i.State?.Name !== "terminated").map((i) => i.InstanceId), [], "the builder was terminated");

        for (const stack of ["regional-ap-southeast-2", "build-us-east-1"]) {
            const destroyed = spawnSync("pulumi", ["destroy", "--yes", "--skip-preview", "--non-interactive", "--stack", stack], { cwd: dir, env, encoding: "utf8" });
            assert.equal(destroyed.status, 0, destroyed.stdout + destroyed.stderr);
        }
    });
});
