/**
 * Bench experiment 7: golden-ami against Packer's amazon-ebs builder, the tool users would pick
 * instead, on the same job and the same emulator timings: a builder launched from a base AMI,
 * no provisioning, stopped, imaged, and the image copied into COPY_REGIONS. golden-ami is
 * bench/programs/golden (a GoldenImage, readiness "none") run by the real `pulumi` engine;
 * Packer is bench/programs/packer/bench.pkr.hcl (communicator "none", `ami_regions`, its EC2
 * endpoint the recording proxy in front of the emulator). Both run one after the other, alone.
 * Per tool: wall time from its first EC2 call to the last image seen available (the recording
 * proxy), detection latency per image and copy, EC2 calls by action (the emulator's call log)
 * and what it left in the account besides the images and their snapshots.
 *
 * Compression: Packer's waiters (aws-sdk-go v1 waiters through the plugin's AWSPollingConfig:
 * instance running, instance stopped, image available) poll every 15 s by default, and
 * AWS_POLL_DELAY_SECONDS — the only way to change that delay — takes whole seconds. So this part
 * runs at its own factor (--packer-scale, default 5: 15 s ÷ 5 = 3 s), the same for both tools:
 * emulated durations ÷ F, Packer's delay 15/F s, golden-ami's waits ÷ F (time-scale hook).
 * AWS_MAX_ATTEMPTS keeps Packer's image-wait bound of 120 attempts.
 * Packer and its plugin are built from Go modules into ~/.cache/golden-ami on first use
 * (scripts/packer.sh); if that fails, the part reports the failure instead of figures.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as ec2sdk from "@aws-sdk/client-ec2";
import { Emulator } from "../../scripts/harness/emulator";
import { REPO_ROOT } from "../../scripts/harness/pulumi-stack";
import { Options } from "../lib/options";
import { BenchContext, benchStack, isDescribe, log, timed } from "../lib/runs";
import { countBy, mean, round, table } from "../lib/stats";
import { detectionRows, FanoutImage } from "./fanout";

const SOURCE = "us-east-1";
const COPY_REGIONS = ["eu-west-1", "ap-southeast-2"];
/**
 * Emulated seconds of each timed state (the same for both tools). Each is an odd multiple of
 * 7.5 s: a wait that starts as its state starts and looks every 15 s (Packer's waiters) sees the
 * change 7.5 s late, its average case; with multiples of 15 s its looks would land just after
 * every change by construction (its best case).
 */
export const PACKER_TIMING_S = { instancePending: 37.5, instanceStopping: 37.5, instanceTerminating: 37.5, imagePending: 67.5, copyPending: 67.5 };
/** Packer's waiter delay (instance running / stopped, image available) when none is set. */
export const PACKER_DEFAULT_DELAY_S = 15;
/** Packer raises the image-available waiter's attempts to 120 (30 minutes at 15 s) when no override is set. */
const PACKER_IMAGE_ATTEMPTS = 120;

export interface ToolRun {
    tool: "golden-ami" | "packer";
    /** Emulated seconds, first EC2 call → the last image or copy seen available. */
    wallS: number;
    /** The whole `pulumi up` / `packer build`, real seconds. */
    commandRealS: number;
    images: FanoutImage[];
    callsByAction: Record<string, number>;
    calls: number;
    describeCalls: number;
    /** kind → IDs present after the run that were not before, images and snapshots included. */
    leftBehind: Record<string, string[]>;
}

export interface PackerComparison {
    scale: number;
    region: string;
    copyRegions: string[];
    timingS: typeof PACKER_TIMING_S;
    packerDelayS: number;
    packer?: { dir: string; version: string; plugin: string; buildRealS?: number };
    runs: ToolRun[];
    /** Why there are no figures (Packer could not be built or run), verbatim. */
    error?: string;
}

/** Runs scripts/packer.sh (which builds Packer and the plugin on first use) and says what it found. */
async function ensurePacker(): Promise<PackerComparison["packer"]> {
    const started = Date.now();
    const child = childProcess.spawn("bash", [path.join(REPO_ROOT, "scripts", "packer.sh")], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        process.stderr.write(c);
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code !== 0) throw new Error(`scripts/packer.sh failed (exit ${code}):\n${stderr.slice(-3000)}`);
    const dir = stdout.trim().split("\n").pop()!;
    const version = childProcess.execFileSync(path.join(dir, "bin", "packer"), ["version"], { encoding: "utf8" }).split("\n")[0].trim();
    const plugin = /plugin (\S+)/.exec(stderr)?.[1] ?? "unknown";
    return { dir, version, plugin, buildRealS: /building it from Go modules/.test(stderr) ? round((Date.now() - started) / 1000) : undefined };
}

/** What the account has in `regions` that a build may make or leave: one ID list per kind. */
async function holdings(emulator: Emulator, regions: string[]): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = { images: [], snapshots: [], instances: [], volumes: [], securityGroups: [], keyPairs: [] };
    for (const region of regions) {
        const ec2 = emulator.ec2(region);
        const tag = (id?: string) => `${region}:${id}`;
        const [images, snapshots, reservations, volumes, groups, keys] = await Promise.all([
            ec2.send(new ec2sdk.DescribeImagesCommand({ Owners: ["self"] })),
            ec2.send(new ec2sdk.DescribeSnapshotsCommand({ OwnerIds: ["self"] })),
            ec2.send(new ec2sdk.DescribeInstancesCommand({})),
            ec2.send(new ec2sdk.DescribeVolumesCommand({})),
            ec2.send(new ec2sdk.DescribeSecurityGroupsCommand({})),
            ec2.send(new ec2sdk.DescribeKeyPairsCommand({})),
        ]);
        out.images.push(...(images.Images ?? []).map((i) => tag(i.ImageId)));
        out.snapshots.push(...(snapshots.Snapshots ?? []).map((s) => tag(s.SnapshotId)));
        const instances = (reservations.Reservations ?? []).flatMap((r) => r.Instances ?? []);
        out.instances.push(...instances.filter((i) => i.State?.Name !== "terminated").map((i) => `${tag(i.InstanceId)} (${i.State?.Name})`));
        out.volumes.push(...(volumes.Volumes ?? []).map((v) => `${tag(v.VolumeId)} (${v.State})`));
        out.securityGroups.push(...(groups.SecurityGroups ?? []).filter((g) => g.GroupName !== "default").map((g) => `${tag(g.GroupId)} (${g.GroupName})`));
        out.keyPairs.push(...(keys.KeyPairs ?? []).map((k) => tag(k.KeyName)));
    }
    return out;
}

function added(before: Record<string, string[]>, after: Record<string, string[]>): Record<string, string[]> {
    const idOf = (entry: string) => entry.split(" ")[0];
    return Object.fromEntries(Object.entries(after).map(([kind, ids]) => [kind, ids.filter((e) => !before[kind].some((b) => idOf(b) === idOf(e)))]));
}

/** One tool's run: the call log and the proxy's record from a reset to the end of `run`. */
async function measure(ctx: BenchContext, F: number, tool: ToolRun["tool"], run: () => Promise<number>): Promise<ToolRun> {
    const { emulator, proxy } = ctx;
    const regions = [SOURCE, ...COPY_REGIONS];
    const before = await holdings(emulator, regions);
    await emulator.resetCalls();
    proxy.reset();
    log(`packer comparison: ${tool}`);
    const realMs = await run();
    const { calls, images } = await emulator.calls();
    const start = calls[0].at;
    const rows = detectionRows(images, proxy, start, F, `packer comparison (${tool})`);
    if (rows.length !== 1 + COPY_REGIONS.length) throw new Error(`packer comparison (${tool}): ${rows.length} images made, expected ${1 + COPY_REGIONS.length}`);
    const result: ToolRun = {
        tool,
        wallS: round(Math.max(...rows.map((r) => r.seenAvailableAtS))),
        commandRealS: round(realMs / 1000),
        images: rows.sort((a, b) => a.createdAtS - b.createdAtS),
        callsByAction: countBy(calls, (c) => c.action),
        calls: calls.length,
        describeCalls: calls.filter(isDescribe).length,
        leftBehind: added(before, await holdings(emulator, regions)),
    };
    for (const r of result.images) {
        log(`    ${r.kind} ${r.imageId} ${r.region}: created ${r.createdAtS} s, available ${r.availableAtS} s, seen ${r.seenAvailableAtS} s (+${r.latencyS} s)`);
    }
    log(`  ${tool}: wall ${result.wallS} s emulated, ${result.calls} EC2 calls (${result.describeCalls} Describe), command ${result.commandRealS} s real`);
    return result;
}

function packerBuild(ctx: BenchContext, F: number, tool: NonNullable<PackerComparison["packer"]>, sourceAmi: string): Promise<number> {
    const logFile = path.join(ctx.backendDir, "packer-build.log");
    const home = fs.mkdtempSync(path.join(ctx.backendDir, "packer-home-"));
    const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: home,
        ...ctx.emulator.env(SOURCE),
        PACKER_PLUGIN_PATH: path.join(tool.dir, "plugins"),
        PACKER_CONFIG_DIR: home,
        PACKER_CACHE_DIR: path.join(home, "cache"),
        CHECKPOINT_DISABLE: "1",
        PACKER_NO_COLOR: "1",
        PACKER_LOG: "1",
        PACKER_LOG_PATH: logFile,
        AWS_POLL_DELAY_SECONDS: String(PACKER_DEFAULT_DELAY_S / F),
        AWS_MAX_ATTEMPTS: String(PACKER_IMAGE_ATTEMPTS),
    };
    const args = [
        "build", "-color=false",
        "-var", `endpoint=${ctx.proxy.endpoint}`,
        "-var", `region=${SOURCE}`,
        "-var", `source_ami=${sourceAmi}`,
        "-var", `ami_name=packer-bench-${Date.now().toString(36)}`,
        "-var", `ami_regions=${JSON.stringify(COPY_REGIONS)}`,
        path.join(REPO_ROOT, "bench", "programs", "packer", "bench.pkr.hcl"),
    ];
    const started = Date.now();
    const child = childProcess.spawn(path.join(tool.dir, "bin", "packer"), args, { env, cwd: home, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    return new Promise((resolve, reject) => {
        child.on("close", (code) => {
            if (code === 0) return resolve(Date.now() - started);
            const debug = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").slice(-4000) : "";
            reject(new Error(`packer build failed (exit ${code})\n${output.slice(-4000)}\n--- PACKER_LOG ---\n${debug}`));
        });
    });
}

export async function runPacker(ctx: BenchContext, opts: Options): Promise<PackerComparison> {
    const F = opts.packerScale;
    const result: PackerComparison = {
        scale: F, region: SOURCE, copyRegions: COPY_REGIONS, timingS: PACKER_TIMING_S, packerDelayS: PACKER_DEFAULT_DELAY_S / F, runs: [],
    };
    try {
        result.packer = await ensurePacker();
    } catch (err) {
        result.error = (err as Error).message;
        log(`packer comparison skipped: ${result.error}`);
        return result;
    }
    const timing = Object.fromEntries(Object.entries(PACKER_TIMING_S).map(([k, v]) => [k, v / F]));
    await ctx.emulator.configure({ timing: { ...timing, snapshotSeconds: null, snapshotSecondsPerGiB: null, userDataSeconds: null, statusInitializing: null } });
    const base = (await ctx.emulator.baseImage(SOURCE)).ImageId!;
    const stack = await benchStack(ctx, "golden", "packer-golden", SOURCE, {
        baseImageId: base,
        namePrefix: `golden-bench-${Date.now().toString(36)}`,
        copyRegions: JSON.stringify(COPY_REGIONS),
    }, F);
    fs.rmSync(ctx.hookLog, { force: true });
    result.runs.push(await measure(ctx, F, "golden-ami", () => timed(() => stack.up(), "packer comparison: golden-ami pulumi up")));
    const compressed = fs.existsSync(ctx.hookLog) ? fs.readFileSync(ctx.hookLog, "utf8").split("\n").filter((l) => l.includes("ami-")).length : 0;
    if (F !== 1 && compressed < 1 + COPY_REGIONS.length) throw new Error(`packer comparison: golden-ami's image waits were not time-compressed (${compressed} seen by the hook)`);
    try {
        result.runs.push(await measure(ctx, F, "packer", () => packerBuild(ctx, F, result.packer!, base)));
    } catch (err) {
        result.error = (err as Error).message;
        log(`packer comparison: ${result.error}`);
    }
    return result;
}

/** Part 7 of the report: both tools side by side, and golden-ami ÷ Packer. */
export function packerSection(c: PackerComparison): string[] {
    const out: string[] = [];
    const t = c.timingS;
    out.push(
        `7. golden-ami against Packer (amazon-ebs, communicator none, ami_regions) on the same emulator timings, time compressed by F = ${c.scale} for both ` +
            `(--packer-scale; Packer's 15 s waiter delay as AWS_POLL_DELAY_SECONDS=${c.packerDelayS}): builder in ${c.region} from a base AMI, ` +
            `no provisioning, copied into ${c.copyRegions.join(", ")}; instance pending ${t.instancePending} s, stopping ${t.instanceStopping} s, ` +
            `terminating ${t.instanceTerminating} s, image ${t.imagePending} s, copy ${t.copyPending} s emulated; wall = first EC2 call → the last image seen available`,
    );
    if (c.packer) out.push(`   ${c.packer.version}, plugin ${c.packer.plugin}${c.packer.buildRealS !== undefined ? ` (built from Go modules in this run: ${c.packer.buildRealS} s real)` : ""}`);
    if (c.error) out.push(`   NO FIGURES${c.runs.length ? " for Packer" : ""}: ${c.error.split("\n").slice(0, 12).join("\n   ")}`);
    const g = c.runs.find((r) => r.tool === "golden-ami");
    const p = c.runs.find((r) => r.tool === "packer");
    if (!g) return out;
    const latency = (r: ToolRun, kind: string, f: (xs: number[]) => number) => f(r.images.filter((i) => i.kind === kind).map((i) => i.latencyS));
    const max = (xs: number[]) => Math.max(...xs);
    const actions = (r: ToolRun, re: RegExp) => Object.entries(r.callsByAction).filter(([a]) => re.test(a)).reduce((n, [, k]) => n + k, 0);
    const extra = (r: ToolRun) => {
        const kinds = Object.entries(r.leftBehind).filter(([kind, ids]) => ids.length && kind !== "images" && kind !== "snapshots");
        return kinds.length ? kinds.map(([kind, ids]) => `${ids.length} ${kind}`).join(", ") : "nothing";
    };
    const figures: Array<[string, (r: ToolRun) => number, number]> = [
        ["wall s (emulated)", (r) => r.wallS, 1],
        ["detection latency, image s", (r) => latency(r, "create", mean), 2],
        ["detection latency, copies mean s", (r) => latency(r, "copy", mean), 2],
        ["detection latency, copies max s", (r) => latency(r, "copy", max), 2],
        ["EC2 calls", (r) => r.calls, 0],
        ["Describe calls", (r) => r.describeCalls, 0],
        ["DescribeImages", (r) => r.callsByAction.DescribeImages ?? 0, 0],
        ["DescribeSnapshots", (r) => r.callsByAction.DescribeSnapshots ?? 0, 0],
        ["DescribeInstances", (r) => r.callsByAction.DescribeInstances ?? 0, 0],
        ["mutating calls", (r) => r.calls - actions(r, /^(Describe|Get|List)/), 0],
        ["command s (real)", (r) => r.commandRealS, 1],
    ];
    out.push(
        table(
            ["figure", "golden-ami", "Packer", "golden-ami ÷ Packer"],
            figures.map(([name, f, digits]) => [name, f(g).toFixed(digits), p ? f(p).toFixed(digits) : "—", p && f(p) ? (f(g) / f(p)).toFixed(2) : "—"]),
        ),
    );
    for (const r of c.runs) {
        out.push(`   ${r.tool} per image: ${r.images.map((i) => `${i.kind} ${i.region} available ${i.availableAtS} s, seen ${i.seenAvailableAtS} s (+${i.latencyS} s)`).join("; ")}`);
        out.push(`   ${r.tool} calls by action: ${Object.entries(r.callsByAction).sort((a, b) => b[1] - a[1]).map(([a, n]) => `${a} ${n}`).join(", ")}`);
        out.push(`   ${r.tool} left behind: ${r.leftBehind.images.length} images and ${r.leftBehind.snapshots.length} snapshots (the product), besides them ${extra(r)}`);
    }
    return out;
}
