// Loaded with `node --require` (NODE_OPTIONS) into the processes `pulumi` starts during the
// bench's engine runs. In the dynamic-provider process only, it multiplies the timeScale of
// every golden-ami wait (providers/ec2/waiter.ts waitUntil: image waits, instance stops,
// builder readiness) by GA_BENCH_TIME_SCALE, so the provider's delays are compressed by the
// same factor F as the emulator's durations, exactly like the in-process measurements
// (waitForImage(..., { timeScale: 1/F })). It changes no delay value, only the scale.
"use strict";
const path = require("path");

const scale = Number(process.env.GA_BENCH_TIME_SCALE);
const isProviderHost = process.argv.some((arg) => arg.includes("dynamic-provider"));
if (isProviderHost && Number.isFinite(scale) && scale > 0 && scale !== 1) {
    // The same module instance the provider runtime loads: golden-ami/dist resolves, through
    // NODE_PATH's symlink, to this repository's dist/ (Node follows symlinks to the real path).
    const waiter = require(path.resolve(__dirname, "..", "..", "dist", "providers", "ec2", "waiter.js"));
    const original = waiter.waitUntil;
    const fs = require("fs");
    const evidence = process.env.GA_BENCH_HOOK_LOG;
    waiter.waitUntil = function scaledWaitUntil(spec) {
        const timeScale = (spec.timeScale ?? 1) * scale;
        // One line per wait, so the bench can check that the compression reached the provider.
        if (evidence) fs.appendFileSync(evidence, `${process.pid} ${timeScale} ${spec.description}\n`);
        return original({ ...spec, timeScale });
    };
}
