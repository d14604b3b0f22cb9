/**
 * The main job, on the embedded EC2 emulator: build a golden image, copy it to another
 * region, copy it again from a regional stack through a StackReference, and consume it from
 * a third stack — with the real Pulumi engine and golden-ami's own Pulumi program (index.ts).
 *
 *   npm run demo                 # build, copy, consume; prints the AMI IDs per region
 *   npm run demo -- --destroy    # destroys every stack, checks nothing is left, stops the emulator
 *
 * The emulator keeps running between the two (its address is in .ga/demo/emulator.json), so
 * the second invocation destroys what the first made. With GA_DEMO_EMULATOR=<endpoint> the demo
 * uses an emulator someone else runs instead of starting its own (tests/e2e/demo.test.ts, so the
 * leak audit after every e2e test sees what the demo did), and leaves it running. The build
 * stack runs GoldenImage's own builder: the base image from the SSM lookup, a customisation
 * script that powers the builder off, the image, the verification gate (a test instance of the
 * image), the builder terminated, the copy. The @pulumi/aws provider plugin cannot be
 * downloaded here, so only the consumer's instances are launched through the EC2 API directly;
 * everything golden-ami does itself runs for real.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    DescribeImagesCommand,
    DescribeSnapshotsCommand,
    EC2Client,
    DescribeInstancesCommand,
    RunInstancesCommand,
    TerminateInstancesCommand,
    waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { ensureMoto, PYTHON, SERVER_SCRIPT } from "./harness/emulator";

const ROOT = path.resolve(__dirname, "..");
const DEMO_DIR = process.env.GA_DEMO_DIR ?? path.join(ROOT, ".ga", "demo");
const PROJECT_DIR = path.join(DEMO_DIR, "project");
const STATE_DIR = path.join(DEMO_DIR, "state");
const EMULATOR_FILE = path.join(DEMO_DIR, "emulator.json");

const BUILD_REGION = "us-east-1";
const COPY_REGION = "eu-west-1";
const REGIONAL_REGION = "ap-southeast-2";
const REGIONS = [BUILD_REGION, COPY_REGION, REGIONAL_REGION];
const STACKS = {
    build: `build-${BUILD_REGION}`,
    regional: `regional-${REGIONAL_REGION}`,
    consumer: `consumer-${REGIONAL_REGION}`,
};
/** Emulated durations: long enough to watch progress, short enough for a demo. */
const TIMING = { instancePending: 1, userDataSeconds: 4, instanceStopping: 3, instanceTerminating: 2, imagePending: 8, copyPending: 8 };
/** The builder's base image (an SSM public parameter, resolved by GoldenImage's lookup) and its customisation. */
const BASE_IMAGE = { ssmParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" };
const CUSTOMISE = [
    "#!/bin/bash",
    "set -euo pipefail",
    "trap 'echo GOLDEN-AMI-FAILED; shutdown -h now' ERR",
    "echo 'golden-ami demo: installing nginx'",
    "sleep 2",
    "echo 'golden-ami demo: customised'",
    "shutdown -h now",
    "",
].join("\n");
/** The verification gate's test script: run on a test instance of the new image before it is copied. */
const VERIFY = ["#!/bin/bash", "set -euo pipefail", "echo 'golden-ami demo: nginx answers on :80'", "echo GOLDEN-AMI-OK", "shutdown -h now", ""].join("\n");

interface EmulatorRecord {
    endpoint: string;
    /** The emulator the demo started (and stops on --destroy); none for GA_DEMO_EMULATOR's. */
    pid?: number;
    consumerInstanceIds?: string[];
}

function say(line: string): void {
    process.stdout.write(`${line}\n`);
}

function credentialsEnv(endpoint: string): Record<string, string> {
    return {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: "demo",
        AWS_SECRET_ACCESS_KEY: "demo",
        AWS_REGION: BUILD_REGION,
        PULUMI_BACKEND_URL: `file://${STATE_DIR}`,
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "golden-ami-demo",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
}

function ec2(endpoint: string, region: string): EC2Client {
    return new EC2Client({ region, endpoint, credentials: { accessKeyId: "demo", secretAccessKey: "demo" } });
}

async function alive(endpoint: string): Promise<boolean> {
    try {
        return (await fetch(`${endpoint}/_golden-ami/config`)).ok;
    } catch {
        return false;
    }
}

/** Gives the emulator the demo's timing (a partial update: other settings stay). */
async function configureTiming(endpoint: string): Promise<void> {
    const response = await fetch(`${endpoint}/_golden-ami/config`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ timing: TIMING }),
    });
    if (!response.ok) throw new Error(`the emulator at ${endpoint} refused the demo's timing: HTTP ${response.status} ${await response.text()}`);
}

/**
 * Starts the emulator detached (it outlives this process), or reuses the running one, or
 * uses GA_DEMO_EMULATOR's (given the demo's timing, never stopped by the demo).
 */
async function startEmulator(): Promise<EmulatorRecord> {
    const given = process.env.GA_DEMO_EMULATOR;
    let record: EmulatorRecord | undefined;
    if (fs.existsSync(EMULATOR_FILE)) {
        record = JSON.parse(fs.readFileSync(EMULATOR_FILE, "utf8")) as EmulatorRecord;
        if (given && record.endpoint !== given) record = undefined; // another emulator's state: not ours to reuse
        if (record && !given && (await alive(record.endpoint))) return record;
    }
    if (given) {
        if (!(await alive(given))) throw new Error(`GA_DEMO_EMULATOR=${given}: no golden-ami emulator answers there`);
        await configureTiming(given);
        record ??= { endpoint: given };
        fs.writeFileSync(EMULATOR_FILE, JSON.stringify(record, null, 2));
        return record;
    }
    await ensureMoto(); // pip-installs moto[server]==5.2.1 once where it is missing
    const log = path.join(DEMO_DIR, "emulator.log");
    const out = fs.openSync(log, "w");
    const child = spawn(PYTHON, [SERVER_SCRIPT, "--host", "127.0.0.1", "--port", "0"], {
        detached: true,
        stdio: ["ignore", out, out],
        env: { ...process.env, GA_EMULATOR_TIMING: JSON.stringify(TIMING) },
    });
    child.unref();
    const deadline = Date.now() + 60_000;
    for (;;) {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(fs.readFileSync(log, "utf8"));
        if (match && (await alive(match[1]))) {
            const record = { endpoint: match[1], pid: child.pid! };
            fs.writeFileSync(EMULATOR_FILE, JSON.stringify(record, null, 2));
            return record;
        }
        if (Date.now() > deadline) throw new Error(`the emulator did not start; see ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

function writeProject(): void {
    fs.mkdirSync(PROJECT_DIR, { recursive: true });
    fs.mkdirSync(STATE_DIR, { recursive: true });
    // The repository's own program, run from a project directory of the demo's, so the demo's
    // stack files stay out of the repository.
    fs.writeFileSync(
        path.join(PROJECT_DIR, "Pulumi.yaml"),
        `name: golden-ami\ndescription: golden-ami demo stacks (see scripts/demo.ts)\nruntime:\n  name: nodejs\nmain: ${path.relative(PROJECT_DIR, path.join(ROOT, "index.ts"))}\n`,
    );
}

/** Runs the pulumi CLI in the demo project, streaming its output indented. */
function pulumi(env: Record<string, string>, args: string[], options: { quiet?: boolean } = {}): number {
    const result = spawnSync("pulumi", [...args, "--non-interactive"], {
        cwd: PROJECT_DIR,
        env: { ...process.env, ...env },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
    });
    if (!options.quiet || result.status !== 0) {
        for (const line of `${result.stdout}${result.stderr}`.split("\n")) if (line.trim()) say(`      ${line}`);
    }
    return result.status ?? 1;
}

function mustPulumi(env: Record<string, string>, args: string[], options: { quiet?: boolean } = {}): void {
    const code = pulumi(env, args, options);
    if (code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${code})`);
}

function stackExists(env: Record<string, string>, stack: string): boolean {
    const result = spawnSync("pulumi", ["stack", "select", stack, "--non-interactive"], {
        cwd: PROJECT_DIR,
        env: { ...process.env, ...env },
        stdio: "ignore",
    });
    return result.status === 0;
}

function ensureStack(env: Record<string, string>, stack: string, config: Record<string, string>): void {
    if (!stackExists(env, stack)) mustPulumi(env, ["stack", "init", stack], { quiet: true });
    const pairs = Object.entries(config).flatMap(([k, v]) => ["--plaintext", `${k}=${v}`]);
    mustPulumi(env, ["config", "set-all", "--stack", stack, ...pairs], { quiet: true });
}

function outputs(env: Record<string, string>, stack: string): Record<string, any> {
    const result = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack], {
        cwd: PROJECT_DIR,
        env: { ...process.env, ...env },
        encoding: "utf8",
    });
    return JSON.parse(result.stdout || "{}");
}

async function up(): Promise<void> {
    fs.mkdirSync(DEMO_DIR, { recursive: true });
    writeProject();
    say("golden-ami demo: build a golden image, copy it, consume it — on the embedded EC2 emulator");
    say(`[1/5] starting the EC2 emulator (builders customise for ${TIMING.userDataSeconds} s, instances stop in ${TIMING.instanceStopping} s, images and copies take ${TIMING.imagePending} s)`);
    const emulator = await startEmulator();
    const env = credentialsEnv(emulator.endpoint);
    const whose = emulator.pid === undefined ? "GA_DEMO_EMULATOR's, left running" : `pid ${emulator.pid}`;
    say(`      ${emulator.endpoint} (${whose}); state in ${path.relative(ROOT, DEMO_DIR)}/`);

    const sourceStack = `organization/golden-ami/${STACKS.build}`;
    say(
        `[2/5] pulumi up ${STACKS.build}: look up the base image (${BASE_IMAGE.ssmParameter}), launch the builder, let it customise ` +
            `itself and power off, image it, wait for every snapshot, verify it with a test instance, terminate both, copy to ${COPY_REGION}`,
    );
    ensureStack(env, STACKS.build, {
        "aws:region": BUILD_REGION,
        "golden-ami:mode": "build",
        "golden-ami:builder": JSON.stringify({ baseImage: BASE_IMAGE, userData: CUSTOMISE, tags: { purpose: "demo" } }),
        "golden-ami:verify": JSON.stringify({ userData: VERIFY }),
        "golden-ami:copyToRegions": JSON.stringify([COPY_REGION]),
        "golden-ami:tags": JSON.stringify({ team: "platform", purpose: "demo" }),
    });
    mustPulumi(env, ["up", "--yes", "--skip-preview", "--stack", STACKS.build]);

    say(`[3/5] pulumi up ${STACKS.regional}: copy the build stack's image into ${REGIONAL_REGION} through a StackReference`);
    ensureStack(env, STACKS.regional, { "aws:region": REGIONAL_REGION, "golden-ami:mode": "regional", "golden-ami:sourceStack": sourceStack });
    mustPulumi(env, ["up", "--yes", "--skip-preview", "--stack", STACKS.regional]);

    say(`[4/5] pulumi up ${STACKS.consumer}: read the golden AMI for ${REGIONAL_REGION} from the regional stack`);
    ensureStack(env, STACKS.consumer, {
        "aws:region": REGIONAL_REGION,
        "golden-ami:mode": "consumer",
        "golden-ami:sourceStack": `organization/golden-ami/${STACKS.regional}`,
        "golden-ami:launch": "false",
    });
    mustPulumi(env, ["up", "--yes", "--skip-preview", "--stack", STACKS.consumer]);

    const build = outputs(env, STACKS.build);
    const regional = outputs(env, STACKS.regional);
    const consumer = outputs(env, STACKS.consumer);
    if (!emulator.consumerInstanceIds) {
        const client = ec2(emulator.endpoint, REGIONAL_REGION);
        emulator.consumerInstanceIds = [];
        for (const zone of [`${REGIONAL_REGION}a`, `${REGIONAL_REGION}b`]) {
            const run = await client.send(
                new RunInstancesCommand({ ImageId: consumer.imageId, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: zone } }),
            );
            emulator.consumerInstanceIds.push(run.Instances![0].InstanceId!);
        }
        fs.writeFileSync(EMULATOR_FILE, JSON.stringify(emulator, null, 2));
    }
    say(`[5/5] launched identical instances ${emulator.consumerInstanceIds.join(" and ")} in ${REGIONAL_REGION}a and ${REGIONAL_REGION}b from ${consumer.imageId}`);
    say(`      (through the EC2 API: consumer mode's launch template and instances need the @pulumi/aws plugin, which cannot be downloaded here)`);

    say("");
    say(`Golden image ${build.imageName}:`);
    const rows: Array<[string, string, string]> = [
        ...Object.entries(build.regionImageIds as Record<string, string>).map(([region, id]): [string, string, string] => [
            region,
            id,
            region === BUILD_REGION ? `${STACKS.build} (built here)` : `${STACKS.build} (copy)`,
        ]),
        ...Object.entries(regional.regionImageIds as Record<string, string>).map(([region, id]): [string, string, string] => [region, id, `${STACKS.regional} (copy via StackReference)`]),
    ];
    for (const [region, id, source] of rows) say(`  ${region.padEnd(16)} ${id.padEnd(24)} ${source}`);
    say(`  consumer ${STACKS.consumer} resolved ${consumer.imageId} for ${consumer.region}`);
    say("");
    say("Remove everything (stacks, images, snapshots, instances, the emulator): npm run demo -- --destroy");
}

async function destroy(): Promise<void> {
    if (!fs.existsSync(EMULATOR_FILE)) {
        say("golden-ami demo: nothing to destroy (no .ga/demo/emulator.json)");
        return;
    }
    const emulator = JSON.parse(fs.readFileSync(EMULATOR_FILE, "utf8")) as EmulatorRecord;
    if (!(await alive(emulator.endpoint))) {
        say(`golden-ami demo: the emulator at ${emulator.endpoint} is gone (and everything in it); removing the demo state`);
        fs.rmSync(DEMO_DIR, { recursive: true, force: true });
        return;
    }
    const env = credentialsEnv(emulator.endpoint);
    writeProject();
    // The consumer's instances are the demo's own (the builder was golden-ami's, terminated by the
    // build stack): they go first, the last thing made, and only once terminated do the stacks go.
    const consumers = emulator.consumerInstanceIds ?? [];
    if (consumers.length) {
        const client = ec2(emulator.endpoint, REGIONAL_REGION);
        await client.send(new TerminateInstancesCommand({ InstanceIds: consumers }));
        await waitUntilInstanceTerminated({ client, minDelay: 1, maxDelay: 2, maxWaitTime: 120 }, { InstanceIds: consumers });
        say(`terminated ${consumers.join(" and ")}`);
    }
    for (const stack of [STACKS.consumer, STACKS.regional, STACKS.build]) {
        if (!stackExists(env, stack)) continue;
        say(`pulumi destroy ${stack}`);
        mustPulumi(env, ["destroy", "--yes", "--skip-preview", "--stack", stack], { quiet: true });
        mustPulumi(env, ["stack", "rm", stack, "--yes"], { quiet: true });
    }
    let left = 0;
    for (const region of REGIONS) {
        const client = ec2(emulator.endpoint, region);
        const images = (await client.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images ?? [];
        const snapshots = (await client.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ?? [];
        const reservations = (await client.send(new DescribeInstancesCommand({}))).Reservations ?? [];
        const instances = reservations.flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== "terminated");
        left += images.length + snapshots.length + instances.length;
        say(`  ${region.padEnd(16)} images left: ${images.length}, snapshots left: ${snapshots.length}, instances left: ${instances.length}`);
    }
    // GA_DEMO_EMULATOR's emulator is its owner's to stop (the test audits it afterwards).
    if (emulator.pid !== undefined) process.kill(emulator.pid, "SIGTERM");
    fs.rmSync(DEMO_DIR, { recursive: true, force: true });
    const stopped = emulator.pid !== undefined ? "the emulator is stopped" : `the emulator at ${emulator.endpoint} is left running (GA_DEMO_EMULATOR)`;
    say(left === 0 ? `golden-ami demo: everything removed; ${stopped}.` : `golden-ami demo: ${left} images/snapshots/instances were left behind`);
    if (left !== 0) process.exitCode = 1;
}

(process.argv.includes("--destroy") ? destroy() : up()).catch((err: Error) => {
    process.stderr.write(`golden-ami demo failed: ${err.message}\n`);
    process.exitCode = 1;
});
