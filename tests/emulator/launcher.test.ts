// The launcher itself: one ready line, loopback only, no leaked server.
import * as assert from "node:assert/strict";
import * as childProcess from "child_process";
import * as path from "path";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";

const SERVER = path.resolve(__dirname, "server.py");

function waitForLine(child: childProcess.ChildProcess): Promise<string> {
    return new Promise((resolve, reject) => {
        let out = "";
        child.stdout!.setEncoding("utf8");
        child.stdout!.on("data", (chunk: string) => {
            out += chunk;
            if (out.includes("\n")) resolve(out);
        });
        child.once("exit", (code) => reject(new Error(`exited with ${code} before printing`)));
    });
}

function exitOf(child: childProcess.ChildProcess, timeoutMs: number): Promise<number | null> {
    return new Promise((resolve, reject) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("did not exit")); }, timeoutMs);
        child.once("exit", (code) => { clearTimeout(timer); resolve(code); });
    });
}

describe("emulator: launcher", function () {
    it("prints exactly one ready line and exits when its stdin closes", async function () {
        const child = childProcess.spawn("python3", [SERVER, "--host", "127.0.0.1", "--port", "0", "--exit-on-stdin-close"], {
            stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
        });
        const out = await waitForLine(child);
        assert.match(out, /^golden-ami-emulator listening on http:\/\/127\.0\.0\.1:\d+\n$/);
        child.stdin!.end();
        assert.equal(await exitOf(child, 10_000), 0);
    });

    it("refuses a non-loopback address", async function () {
        const result = childProcess.spawnSync("python3", [SERVER, "--host", "0.0.0.0", "--port", "0"], { encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /loopback/);
    });

    it("Emulator.start/stop: serves EC2 over HTTP, then stops on SIGTERM", async function () {
        const emulator = await Emulator.start();
        const regions = await emulator.ec2("us-east-1").send(new ec2.DescribeRegionsCommand({}));
        assert.ok((regions.Regions ?? []).length > 0);
        assert.deepEqual(Object.keys(emulator.env("eu-west-1")).sort(), ["AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_SECRET_ACCESS_KEY"]);
        assert.equal(emulator.env("eu-west-1").AWS_REGION, "eu-west-1");
        await emulator.stop();
        await assert.rejects(fetch(`${emulator.endpoint}/_golden-ami/calls`));
    });
});
