// The reliability line counts planned against ran: a fault test that did not run (its suite's
// `before` failed, it was skipped) is named and fails the run, serially and with --parallel.
import * as assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isFaultTest, RunRecord, summarize } from "../support/reliability-summary";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(__dirname, "fixtures", "reliability");

const planned = (title: string): RunRecord => ({ kind: "fault-planned", title });
const ran = (title: string, passed = true): RunRecord => ({ kind: "fault-ran", title, passed });

describe("reliability summary: planned vs ran", function () {
    const A = "e2e faults: X survives a storm";
    const B = "e2e faults: X survives a kill";
    const C = "e2e faults: Y survives a failed image";

    it("every planned fault test ran and passed: n/n and no failure", () => {
        const s = summarize([planned(A), planned(B), ran(A), ran(B)]);
        assert.match(s.line, /^reliability: faults survived 2\/2, bad inputs refused not run,/);
        assert.deepEqual(s.failures, []);
    });

    it("a planted drop (a planned fault test that never ran) is counted, named and fails the run", () => {
        const s = summarize([planned(A), planned(B), planned(C), ran(A), ran(B)]);
        assert.match(s.line, /faults survived 2\/3, 1 did not run,/);
        assert.deepEqual(s.failures, [`fault test did not run: ${C}`]);
        assert.ok(s.detail.some((d) => d.includes("DID NOT RUN") && d.includes(C)), s.detail.join("\n"));
    });

    it("a fault test that ran and failed did not survive (mocha fails the run for it already)", () => {
        const s = summarize([planned(A), planned(B), ran(A), ran(B, false)]);
        assert.match(s.line, /faults survived 1\/2,/);
        assert.deepEqual(s.failures, []);
    });

    it("a fault test left out by --grep is not expected to run", () => {
        const s = summarize([planned(A), planned(C), ran(A)], (title) => /X/.test(title));
        assert.match(s.line, /faults survived 1\/1,/);
        assert.deepEqual(s.failures, []);
    });

    it("no fault test in the run says `not run`, not a ratio", () => {
        assert.match(summarize([]).line, /faults survived not run, bad inputs refused not run, resources leaked not audited, secrets found in state not run$/);
    });

    it("only fault-injection tests are faults: adopting an AMI is not one", () => {
        assert.equal(isFaultTest("e2e faults: recovery and load adopts an existing AMI with adoptImageId (golden-ami's pulumi import): no new image"), false);
        assert.equal(isFaultTest("e2e faults: recovery and load survives SIGKILL of `pulumi up` during a copy wait"), true);
        assert.equal(isFaultTest("e2e: InstanceImage survives SIGKILL of `pulumi up` mid-wait: the re-run adopts the image"), true);
        assert.equal(isFaultTest("e2e: InstanceImage refuses a terminated instance with a clear error and creates nothing"), false);
    });

    it("a leak, an audit that could not run, or a secret in state fails the run; e2e coverage is counted", () => {
        const s = summarize([
            { kind: "leak-audit", what: "e2e t1", leaked: 0 },
            { kind: "leak-audit", what: "e2e t2", leaked: 2, detail: "us-east-1 images ami-1 ami-2" },
            { kind: "leak-audit", what: "e2e t3", leaked: 0, error: "ECONNREFUSED" },
            { kind: "not-audited", what: "e2e demo", why: "no emulator" },
            { kind: "secrets-scan", what: "stack s1", found: 1, detail: ["AWS_ENDPOINT_URL in stack s1 export"] },
        ]);
        assert.match(s.line, /resources leaked 2 \(2\/4 e2e tests audited\), secrets found in state 1 \(1 scans\)$/);
        assert.equal(s.failures.length, 3, s.failures.join("\n"));
        assert.ok(s.failures.some((f) => f.includes("ami-1 ami-2")));
        assert.ok(s.failures.some((f) => f.includes("ECONNREFUSED")));
        assert.ok(s.failures.some((f) => f.includes("AWS_ENDPOINT_URL")));
    });
});

/** Runs mocha with the project's root hooks and reporter on fixture files, in a run directory of its own. */
function mochaOn(files: string[], extra: string[] = []): { code: number; output: string } {
    const env = { ...process.env };
    delete env.GA_RUN_DIR; // the fixture run must not write into this run's records
    const result = spawnSync(process.execPath, [
        path.join(REPO_ROOT, "node_modules", "mocha", "bin", "mocha.js"),
        "--no-config", "--extension", "ts",
        "--require", "ts-node/register/transpile-only",
        "--require", path.join(REPO_ROOT, "tests", "support", "root-hooks.ts"),
        "--reporter", path.join(REPO_ROOT, "tests", "support", "reporter.js"),
        ...extra,
        ...files.map((f) => path.join(FIXTURES, f)),
    ], { cwd: REPO_ROOT, env, encoding: "utf8", timeout: 120_000 });
    return { code: result.status ?? 1, output: `${result.stdout}\n${result.stderr}` };
}

describe("reliability summary in a real mocha run (fixtures)", function () {
    this.timeout(180_000);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ga-reliability-"));
    after(() => fs.rmSync(scratch, { recursive: true, force: true }));

    it("a skipped fault test fails the run, though mocha itself counts no failure for it", () => {
        const { code, output } = mochaOn(["survives.fixture.ts", "skipped.fixture.ts"]);
        assert.match(output, /^reliability: faults survived 1\/2, 1 did not run,/m, output);
        assert.match(output, /^reliability FAILED: fault test did not run: e2e faults: fixture with a skipped test is skipped$/m, output);
        assert.match(output, /^mocha: 1 passed, 1 failed, 1 skipped$/m, output);
        assert.notEqual(code, 0, output);
    });

    it("with --parallel: one reliability line and one mocha line, totals over every worker; a suite whose before failed is counted", () => {
        const { code, output } = mochaOn(["survives.fixture.ts", "before-fails.fixture.ts", "skipped.fixture.ts"], ["--parallel", "--jobs", "2"]);
        assert.equal(output.match(/^reliability: /gm)?.length, 1, output);
        assert.match(output, /^reliability: faults survived 1\/3, 2 did not run,/m, output);
        assert.match(output, /fault test did not run: e2e faults: fixture whose before fails never runs/, output);
        // 1 failure for the failed `before` hook, 1 for the reliability check.
        assert.equal(output.match(/^mocha: /gm)?.length, 1, output);
        assert.match(output, /^mocha: 1 passed, 2 failed, 1 skipped$/m, output);
        assert.notEqual(code, 0, output);
    });

    it("every fault test ran: the run passes", () => {
        const { code, output } = mochaOn(["survives.fixture.ts"], ["--parallel", "--jobs", "2"]);
        assert.match(output, /^reliability: faults survived 1\/1,/m, output);
        assert.match(output, /^mocha: 1 passed, 0 failed$/m, output);
        assert.equal(code, 0, output);
    });
});
