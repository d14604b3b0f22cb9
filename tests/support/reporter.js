// mocha's spec reporter plus two closing lines CI can read: the reliability line
// (tests/support/reliability-summary.ts, over the records of every process of the run) and
// "mocha: N passed, N failed". It runs in mocha's root process, also with --parallel, where
// "end" comes once every worker has finished. A reliability failure (a fault test that did
// not run, a leak, a secret in state) counts as one failed test and fails the run.
"use strict";
const Spec = require("mocha/lib/reporters/spec");
// .mocharc.json requires ts-node before reporters are loaded.
const { readRunRecords, runDir, slowestFiles, summarize } = require("./reliability-summary");

class SpecWithSummary extends Spec {
    constructor(runner, options) {
        super(runner, options);
        this.reliabilityFailures = 0;
        runner.once("end", () => {
            const s = runner.stats;
            const grep = runner._grep instanceof RegExp ? runner._grep : /.*/;
            const selected = (title) => grep.test(title) !== Boolean(runner._invert);
            const records = readRunRecords(runDir());
            const summary = summarize(records, selected);
            const slowest = slowestFiles(records);
            if (slowest) console.log(`      ${slowest}`);
            for (const line of summary.detail) console.log(`      ${line}`);
            console.log(summary.line);
            for (const why of summary.failures) console.log(`reliability FAILED: ${why}`);
            this.reliabilityFailures = summary.failures.length ? 1 : 0;
            s.failures += this.reliabilityFailures;
            const skipped = s.pending ? `, ${s.pending} skipped` : "";
            console.log(`mocha: ${s.passes} passed, ${s.failures} failed${skipped}`);
        });
    }

    /** Called by mocha with the run's failure count; the exit code follows what this passes on. */
    done(failures, fn) {
        fn(failures + this.reliabilityFailures);
    }
}
module.exports = SpecWithSummary;
