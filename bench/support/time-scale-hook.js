// Loaded with `node --require` (NODE_OPTIONS) into the processes `pulumi` starts during the
// bench's engine runs. In the dynamic-provider process only, it multiplies the timeScale of
// every golden-ami wait (providers/ec2/waiter.ts waitUntil: image waits, instance stops,
// builder readiness) by GA_BENCH_TIME_SCALE, so the provider's delays are compressed by the
// same factor F as the emulator's durations, exactly like the in-process measurements
// (waitForImage(..., { timeScale: 1/F })), and scales the AWS SDK's retry backoff and adaptive
// rate-limiter waits by the same factor. It changes no delay value, only the scale.
//
// With GA_BENCH_PROBE_LOG set it also records, one JSON line per event, in every Node process
// pulumi starts (the program's and the provider's): when the process started
// (performance.timeOrigin), when the hook ran, how long the first load of a few modules took
// (@pulumi/pulumi, @pulumi/aws, @aws-sdk/client-ec2, golden-ami's own), and, in the provider
// process, its peak resident memory (VmHWM) every half second. The bench's start-up and fleet
// figures come from these lines; nothing here changes what the processes do.
"use strict";
const path = require("path");
const fs = require("fs");

const scale = Number(process.env.GA_BENCH_TIME_SCALE);
const isProviderHost = process.argv.some((arg) => arg.includes("dynamic-provider"));
const repoRoot = path.resolve(__dirname, "..", "..");
if (isProviderHost && Number.isFinite(scale) && scale > 0 && scale !== 1) {
    // The same module instance the provider runtime loads: golden-ami/dist resolves, through
    // NODE_PATH's symlink, to this repository's dist/ (Node follows symlinks to the real path).
    const waiter = require(path.resolve(repoRoot, "dist", "providers", "ec2", "waiter.js"));
    const original = waiter.waitUntil;
    const evidence = process.env.GA_BENCH_HOOK_LOG;
    waiter.waitUntil = function scaledWaitUntil(spec) {
        const timeScale = (spec.timeScale ?? 1) * scale;
        // One line per wait, so the bench can check that the compression reached the provider.
        if (evidence) fs.appendFileSync(evidence, `${process.pid} ${timeScale} ${spec.description}\n`);
        return original({ ...spec, timeScale });
    };
    // The AWS SDK's own delays are the provider's delays too: the backoff before a retried call
    // and the adaptive rate limiter's wait for a send token (after throttling it lets a region's
    // client send as little as 0.5 calls/s). Uncompressed, they would weigh F times more against
    // the compressed EC2 durations than they do against EC2's real ones.
    const retry = require(require.resolve("@smithy/core/retry", { paths: [repoRoot] }));
    const limiterSleep = retry.DefaultRateLimiter.setTimeoutFn;
    retry.DefaultRateLimiter.setTimeoutFn = (fn, delay) => limiterSleep(fn, delay * scale);
    const refresh = retry.StandardRetryStrategy.prototype.refreshRetryTokenForRetry;
    retry.StandardRetryStrategy.prototype.refreshRetryTokenForRetry = async function scaledRefresh(...args) {
        const token = await refresh.apply(this, args);
        const delay = token.getRetryDelay();
        token.getRetryDelay = () => delay * scale;
        return token;
    };
}

const probeLog = process.env.GA_BENCH_PROBE_LOG;
if (probeLog) {
    const { performance } = require("perf_hooks");
    const role = isProviderHost ? "provider" : process.argv.some((a) => a.includes(`cmd${path.sep}run`)) ? "program" : "other";
    const write = (event) => {
        try {
            fs.appendFileSync(probeLog, JSON.stringify({ pid: process.pid, role, ...event }) + "\n");
        } catch {
            // best effort
        }
    };
    write({ event: "start", at: performance.timeOrigin, hookAt: Date.now(), argv: process.argv.slice(1, 3).map((a) => path.basename(a)) });
    // Which first loads to time: a module name or a path inside this repository.
    const watched = (request, resolvedDir) => {
        if (request === "@pulumi/pulumi" || request === "@pulumi/aws" || request === "@aws-sdk/client-ec2" || request === "@aws-sdk/client-ssm" || request === "typescript" || request === "ts-node") return request;
        if (/dist[\\/]providers[\\/]runtime(\.js)?$/.test(request)) return "golden-ami runtime";
        if (resolvedDir && request.startsWith(".") && path.resolve(resolvedDir, request).startsWith(repoRoot + path.sep) && !resolvedDir.includes("node_modules")) {
            const rel = path.relative(repoRoot, path.resolve(resolvedDir, request));
            if (/^(providers|components|dist)\//.test(rel)) return "golden-ami modules";
            if (/^(bench|tests)\/.*programs\//.test(rel)) return "program";
        }
        return undefined;
    };
    const Module = require("module");
    const load = Module._load;
    const seen = new Set();
    Module._load = function timedLoad(request, parent) {
        const name = watched(request, parent && parent.filename ? path.dirname(parent.filename) : undefined);
        if (!name || seen.has(name)) return load.apply(this, arguments);
        seen.add(name);
        const started = Date.now();
        try {
            return load.apply(this, arguments);
        } finally {
            write({ event: "load", module: name, startedAt: started, ms: Date.now() - started });
        }
    };
    if (isProviderHost) {
        const readPeak = () => {
            try {
                const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
                return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
            } catch {
                return process.memoryUsage().rss;
            }
        };
        let last = 0;
        const sample = () => {
            const peak = readPeak();
            if (peak > last) {
                last = peak;
                write({ event: "memory", peakBytes: peak, at: Date.now() });
            }
        };
        setInterval(sample, 500).unref();
        process.on("exit", sample);
    }
}
