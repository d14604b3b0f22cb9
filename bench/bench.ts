/**
 * `npm run bench`: how promptly and how cheaply golden-ami notices that an AMI is ready,
 * against the emulator with timed states, with time compressed by a factor F.
 *
 *   1. detection latency and Describe calls per image, for waits of 10 s, 60 s and 600 s,
 *      golden-ami vs fixed 5 s polling vs the AWS SDK v3 waiter (in this process):
 *      bench/experiments/latency.ts;
 *   2. fan-out with the real `pulumi` engine: 1 image + 5 regional copies, 5 images in one
 *      region: bench/experiments/fanout.ts;
 *   3. no-op `pulumi preview` / `pulumi up` of a 30-image stack, against an empty program:
 *      bench/experiments/noop.ts;
 *   4. fleets of 1×1, 5×3 and 20×8 images × regions under the copy limit and 10% throttling,
 *      then no-op runs of the 20×8 stack against as many plain resources: bench/experiments/fleet.ts, noop.ts;
 *   5. start-up, `pulumi up` to golden-ami's first EC2 call, and golden-ami's share of it:
 *      bench/experiments/startup.ts;
 *   6. golden-ami against Packer's amazon-ebs builder on the same job and timings (Packer built
 *      on first use): bench/experiments/packer.ts.
 * Then the targets, the tables and bench/results/latest.json: bench/report.ts.
 *
 * Flags: --scale F (default 10), --repeat N (default 5), --quick (repeat 1, no 600 s wait),
 * --packer-scale F (default 5),
 * --only latency,fanout,noop,fleet,startup,packer (parts to run). Writes bench/results/latest.json.
 * Run through bench/run.sh (toolchain on PATH, dist/ compiled).
 */
import * as fs from "fs";
import * as path from "path";
import { Emulator } from "../scripts/harness/emulator";
import { REPO_ROOT } from "../scripts/harness/pulumi-stack";
import { runFanout } from "./experiments/fanout";
import { runLatency } from "./experiments/latency";
import { runFleet } from "./experiments/fleet";
import { runNoop, runNoopAtScale } from "./experiments/noop";
import { runPacker } from "./experiments/packer";
import { runStartup } from "./experiments/startup";
import { parseOptions } from "./lib/options";
import { RecordingProxy } from "./lib/proxy";
import { BenchContext, log } from "./lib/runs";
import { evaluate, machine, Parts, report, results } from "./report";

async function main(): Promise<void> {
    const opts = parseOptions(process.argv.slice(2));
    const started = Date.now();
    const facts = machine();
    log(`F = ${opts.scale}, repeat ${opts.repeat}, waits ${opts.waits.join("/")} s, parts ${[...opts.parts].join(",")}`);
    const emulator = await Emulator.start();
    // golden-ami's client factory (providers/ec2/client.ts) reads the standard chain.
    Object.assign(process.env, emulator.env("us-east-1"));
    const proxy = await RecordingProxy.start(emulator.endpoint);
    const backendDir = path.join(REPO_ROOT, ".ga", "bench", `state-${Date.now().toString(36)}`);
    fs.mkdirSync(backendDir, { recursive: true });
    const ctx: BenchContext = { emulator, proxy, backendDir, hookLog: path.join(backendDir, "time-scale-hook.log"), probeLog: path.join(backendDir, "probe.jsonl") };
    const parts: Parts = { latency: [], fanout: [], noop: undefined, fleet: [], noopAtScale: undefined, startup: undefined, packer: undefined };
    try {
        if (opts.parts.has("latency")) parts.latency = await runLatency(ctx, opts);
        if (opts.parts.has("fanout")) parts.fanout = await runFanout(ctx, opts);
        if (opts.parts.has("noop")) parts.noop = await runNoop(ctx, opts);
        if (opts.parts.has("fleet")) {
            parts.fleet = await runFleet(ctx, opts);
            const big = parts.fleet.find((c) => c.stack && c.failedResources === 0);
            if (big?.stack) parts.noopAtScale = await runNoopAtScale(ctx, big.stack, big.images + big.copies);
            for (const c of parts.fleet) delete c.stack;
        }
        if (opts.parts.has("startup")) parts.startup = await runStartup(ctx, opts);
        if (opts.parts.has("packer")) parts.packer = await runPacker(ctx, opts);
    } finally {
        await proxy.stop();
        await emulator.stop();
        // Throwaway stacks: their state dies with the emulator; drop their config files and state.
        for (const program of ["fanout", "empty", "plain", "golden"]) {
            for (const f of fs.readdirSync(path.join(REPO_ROOT, "bench", "programs", program))) {
                if (/^Pulumi\..+\.yaml$/.test(f) && f !== "Pulumi.yaml") fs.rmSync(path.join(REPO_ROOT, "bench", "programs", program, f));
            }
        }
        fs.rmSync(backendDir, { recursive: true, force: true });
    }
    const targets = evaluate(parts, opts.fleetScale);
    const text = report(opts, facts, parts, targets);
    console.log(text);
    fs.mkdirSync(path.dirname(opts.out), { recursive: true });
    fs.writeFileSync(opts.out, JSON.stringify(results(opts, facts, parts, targets, text, started), null, 2) + "\n");
    log(`wrote ${path.relative(process.cwd(), opts.out)} (${Math.round((Date.now() - started) / 1000)} s in all)`);
}

main().catch((err) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
});
