/**
 * The one reliability line a person reads at the end of a test run, and the records it is
 * computed from:
 *
 *   reliability: faults survived 11/12, 1 did not run, bad inputs refused B/B, resources leaked 0 (47/48 e2e tests audited), secrets found in state 0 (31 stacks scanned)
 *
 * - faults: every fault-injection test that was *planned* (found in the loaded suites and
 *   selected by --grep) against the ones that ran; survived = passed. A fault test that did
 *   not run (its suite's `before` failed, it was skipped) is named and fails the run, so a
 *   suite that drops out can no longer leave the line reading "n/n". Which tests are fault
 *   tests: `isFaultTest` below.
 * - bad inputs: one record per invalid input (refused or not), from tests/unit/bad-input.test.ts
 *   (refused by `check`) and tests/integration/refused-at-create.test.ts (refused at create).
 * - resources leaked: the sum over every leak audit recorded: the one tests/support/root-hooks.ts
 *   runs after every e2e test (passed or failed), plus the audits tests record themselves.
 *   Any leak fails the run.
 * - secrets found in state: credential / endpoint occurrences the scans found, over the state of
 *   every PulumiStack (root-hooks.ts) and tests/e2e/secrets.test.ts. Any hit fails the run.
 * A part that did not run at all says "not run" instead of a number that looks like success.
 *
 * Mocha may run test files in parallel worker processes, so records are not only kept in
 * memory: each process appends them to a file in one run directory (GA_RUN_DIR, made by the
 * first process that loads this module, inherited by the workers), and the reporter, in the
 * root process, reads them all once every file has finished (tests/support/reporter.js).
 */
import * as fs from "fs";
import * as path from "path";

/** Fault tests outside the suites titled "e2e faults: ...", by full title (referenced, not duplicated). */
export const EXTERNAL_FAULT_TESTS: ReadonlyArray<{ label: string; title: RegExp }> = [
    { label: "SIGKILL of `pulumi up` during the image wait", title: /^e2e: InstanceImage survives SIGKILL of `pulumi up` mid-wait/ },
    { label: "image wait timed out, next `pulumi up` resumes", title: /^e2e: InstanceImage records an image whose wait timed out/ },
    { label: "SIGKILL of `pulumi up` mid-retention, re-run under 30% throttling", title: /^e2e: retention under faults .* SIGKILL mid-retention/ },
];

/** Suites whose tests are fault tests, except the ones listed in NOT_FAULT_TESTS. */
export const FAULT_SUITE_PREFIX = "e2e faults:";

/** Tests in a fault suite that inject no fault (they share the suite's emulator, nothing more). */
export const NOT_FAULT_TESTS: ReadonlyArray<{ why: string; title: RegExp }> = [
    { why: "adopting an AMI is a feature path: no fault is injected", title: /^e2e faults: recovery and load adopts an existing AMI/ },
];

/** True for a fault-injection test, by its full title. */
export function isFaultTest(fullTitle: string): boolean {
    if (NOT_FAULT_TESTS.some((t) => t.title.test(fullTitle))) return false;
    return fullTitle.startsWith(FAULT_SUITE_PREFIX) || EXTERNAL_FAULT_TESTS.some((t) => t.title.test(fullTitle));
}

export type RunRecord =
    | { kind: "fault-planned"; title: string }
    | { kind: "fault-ran"; title: string; passed: boolean }
    | { kind: "bad-input"; label: string; refused: boolean }
    /** `leaked` unexpected resources; `error` when the audit itself could not run. */
    | { kind: "leak-audit"; what: string; leaked: number; detail?: string; error?: string }
    /** An e2e test after which no audit was possible (no emulator of this process was running). */
    | { kind: "not-audited"; what: string; why: string }
    | { kind: "secrets-scan"; what: string; found: number; detail?: string[] }
    /** A test file's wall time in a --parallel worker (from its first root hook to its last). */
    | { kind: "file-time"; file: string; seconds: number };

const RECORDS_FILE = `records-${process.pid}.jsonl`;
const inProcess: RunRecord[] = [];

/**
 * The run directory every process of this run writes its records to. The first process to
 * load this module (mocha's root process: `--require` loads it before any worker starts)
 * makes it and exports it in the environment, which the workers inherit.
 */
export function runDir(): string {
    let dir = process.env.GA_RUN_DIR;
    if (!dir) {
        const root = path.resolve(__dirname, "..", "..", ".ga", "runs");
        fs.mkdirSync(root, { recursive: true });
        dir = fs.mkdtempSync(path.join(root, `run-${process.pid}-`));
        process.env.GA_RUN_DIR = dir;
    }
    return dir;
}

function record(r: RunRecord): void {
    inProcess.push(r);
    fs.appendFileSync(path.join(runDir(), RECORDS_FILE), `${JSON.stringify(r)}\n`);
}

/** Every record of the run, from every process. */
export function readRunRecords(dir = runDir()): RunRecord[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir)
        .filter((f) => f.startsWith("records-") && f.endsWith(".jsonl"))
        .flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as RunRecord));
}

/** A fault test exists in the loaded suites (it may still not run). */
export function recordPlannedFault(title: string): void {
    record({ kind: "fault-planned", title });
}

/** A fault test ran: `survived` only if it passed. */
export function recordFault(title: string, survived: boolean): void {
    record({ kind: "fault-ran", title, passed: survived });
}

/** An invalid input was tried: `refused` only if it was refused the way the test expects. */
export function recordBadInput(label: string, refused: boolean): void {
    record({ kind: "bad-input", label, refused });
}

/** A leak audit ran and found `leaked` unexpected resources (`detail` says which). */
export function recordLeakAudit(what: string, leaked: number, detail?: string): void {
    record({ kind: "leak-audit", what, leaked, ...(detail ? { detail } : {}) });
}

/** A leak audit could not run (the emulator did not answer, say): counted as a failure. */
export function recordLeakAuditError(what: string, error: string): void {
    record({ kind: "leak-audit", what, leaked: 0, error });
}

/** An e2e test ended with no emulator of this process to audit (a preview-only test starts none). */
export function recordNotAudited(what: string, why: string): void {
    record({ kind: "not-audited", what, why });
}

/** A secrets scan ran and found `found` credential or endpoint occurrences. */
export function recordSecretsScan(what: string, found: number, detail?: string[]): void {
    record({ kind: "secrets-scan", what, found, ...(detail?.length ? { detail } : {}) });
}

/** A test file took `seconds` of wall time (recorded by --parallel workers, one file at a time). */
export function recordFileTime(file: string, seconds: number): void {
    record({ kind: "file-time", file, seconds });
}

/** "slowest files: 281 s tests/e2e/long-wait.test.ts, ..." from the run's records, or undefined. */
export function slowestFiles(records: RunRecord[], count = 8): string | undefined {
    const times = records.filter((r): r is Extract<RunRecord, { kind: "file-time" }> => r.kind === "file-time").sort((a, b) => b.seconds - a.seconds);
    if (!times.length) return undefined;
    return `slowest files: ${times.slice(0, count).map((t) => `${t.seconds.toFixed(0)} s ${t.file}`).join(", ")}`;
}

/** Bad inputs recorded by this process so far (a test file's own tally). */
export function badInputTally(prefix = ""): { refused: number; total: number } {
    const rows = badInputsOf(inProcess).filter(([label]) => label.startsWith(prefix));
    return { refused: rows.filter(([, ok]) => ok).length, total: rows.length };
}

function badInputsOf(records: RunRecord[]): Array<[string, boolean]> {
    const map = new Map<string, boolean>();
    for (const r of records) if (r.kind === "bad-input") map.set(r.label, r.refused);
    return [...map.entries()];
}

export interface Summary {
    /** The reliability line. */
    line: string;
    /** Detail lines (fault tests one by one, leaks, hits), printed above the line. */
    detail: string[];
    /** Why the run fails on reliability grounds; empty when it does not. */
    failures: string[];
}

/**
 * The summary of a run's records. `selected` says whether a planned test was selected by the
 * run's --grep (tests not selected are not expected to run).
 */
export function summarize(records: RunRecord[], selected: (fullTitle: string) => boolean = () => true): Summary {
    const planned = new Set<string>();
    const ran = new Map<string, boolean>();
    for (const r of records) {
        if (r.kind === "fault-planned" && selected(r.title)) planned.add(r.title);
        if (r.kind === "fault-ran") ran.set(r.title, r.passed);
    }
    for (const title of ran.keys()) planned.add(title);
    const didNotRun = [...planned].filter((t) => !ran.has(t)).sort();
    const survived = [...ran.values()].filter(Boolean).length;

    const detail: string[] = [];
    const failures: string[] = [];
    if (planned.size) {
        detail.push("fault tests:");
        for (const title of [...planned].sort()) {
            const outcome = !ran.has(title) ? "DID NOT RUN" : ran.get(title) ? "survived" : "FAILED";
            detail.push(`  ${outcome.padEnd(11)} ${title}`);
        }
    }
    for (const title of didNotRun) failures.push(`fault test did not run: ${title}`);
    const faults = planned.size === 0 ? "not run" : `${survived}/${planned.size}${didNotRun.length ? `, ${didNotRun.length} did not run` : ""}`;

    const bad = badInputsOf(records);
    const badInputs = bad.length === 0 ? "not run" : `${bad.filter(([, ok]) => ok).length}/${bad.length}`;

    const audits = records.filter((r): r is Extract<RunRecord, { kind: "leak-audit" }> => r.kind === "leak-audit");
    const notAudited = records.filter((r): r is Extract<RunRecord, { kind: "not-audited" }> => r.kind === "not-audited");
    const e2eAudited = new Set(audits.filter((a) => a.what.startsWith("e2e ") && !a.error).map((a) => a.what)).size;
    const leakedTotal = audits.reduce((n, a) => n + a.leaked, 0);
    for (const a of audits) {
        if (a.error) failures.push(`leak audit could not run after ${a.what}: ${a.error}`);
        else if (a.leaked > 0) failures.push(`leaked ${a.leaked} after ${a.what}${a.detail ? `: ${a.detail}` : ""}`);
    }
    for (const n of notAudited) detail.push(`not audited: ${n.what} (${n.why})`);
    const e2eTests = new Set([...audits.filter((a) => a.what.startsWith("e2e ")), ...notAudited].map((a) => a.what)).size;
    const leaked = audits.length === 0
        ? "not audited"
        : `${leakedTotal}${e2eTests ? ` (${e2eAudited}/${e2eTests} e2e tests audited)` : ""}`;

    const scans = records.filter((r): r is Extract<RunRecord, { kind: "secrets-scan" }> => r.kind === "secrets-scan");
    const found = scans.reduce((n, s) => n + s.found, 0);
    for (const s of scans) if (s.found > 0) failures.push(`secrets in state of ${s.what}: ${(s.detail ?? []).join("; ")}`);
    const secrets = scans.length === 0 ? "not run" : `${found} (${scans.length} scans)`;

    return {
        line: `reliability: faults survived ${faults}, bad inputs refused ${badInputs}, resources leaked ${leaked}, secrets found in state ${secrets}`,
        detail,
        failures,
    };
}

/** The reliability line from this process's records (one-process runs, scripts). */
export function summaryLine(): string {
    return summarize(inProcess).line;
}

/** One line per fault test of this process, for the person who wants the detail. */
export function faultDetail(): string[] {
    return summarize(inProcess).detail.filter((d) => d.startsWith("  ")).map((d) => d.trim());
}
