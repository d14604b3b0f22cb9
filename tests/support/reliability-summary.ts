/**
 * The one reliability line a person reads at the end of a test run:
 *
 *   reliability: faults survived F/F, bad inputs refused B/B, resources leaked 0, secrets found in state 0
 *
 * Every number is computed from what actually ran in this mocha process, and only what
 * passed counts as survived / refused:
 * - faults: every test of a suite titled "e2e faults: ..." plus the fault tests that live in
 *   tests/e2e/instance-image.test.ts (SIGKILL mid-wait, timeout then resume), matched by
 *   title below; a test counts as attempted when it ran (passed or failed) and as survived
 *   when it passed. Skipped tests do not count.
 * - bad inputs: one record per invalid input (refused or not), from tests/unit/bad-input.test.ts
 *   (refused by `check`) and tests/integration/refused-at-create.test.ts (refused at create).
 * - resources leaked: the sum over every leak audit that was recorded (images + snapshots
 *   left behind that the test did not expect).
 * - secrets found in state: the number of credential / endpoint occurrences the secrets scan
 *   found in exported state and serialized providers.
 * A part that did not run at all says "not run" instead of a number that looks like success.
 *
 * Importing this module (at the top level of a test file) registers two root-level hooks:
 * an afterEach that records fault tests, and an after that prints the line once, when every
 * test file of the run has finished.
 */

/** Fault tests outside the suites titled "e2e faults:", by full title (they are referenced, not duplicated). */
export const EXTERNAL_FAULT_TESTS: ReadonlyArray<{ label: string; title: RegExp }> = [
    { label: "SIGKILL of `pulumi up` during the image wait", title: /^e2e: InstanceImage survives SIGKILL of `pulumi up` mid-wait/ },
    { label: "image wait timed out, next `pulumi up` resumes", title: /^e2e: InstanceImage records an image whose wait timed out/ },
];

/** Suites whose every test is a fault test. */
export const FAULT_SUITE_PREFIX = "e2e faults:";

const faults = new Map<string, boolean>();
const badInputs = new Map<string, boolean>();
const leakAudits: Array<{ what: string; leaked: number }> = [];
const secretScans: Array<{ what: string; found: number }> = [];

/** A fault test ran: `survived` only if it passed. */
export function recordFault(title: string, survived: boolean): void {
    faults.set(title, survived);
}

/** An invalid input was tried: `refused` only if it was refused the way the test expects. */
export function recordBadInput(label: string, refused: boolean): void {
    badInputs.set(label, refused);
}

/** A leak audit ran and found `leaked` unexpected images + snapshots. */
export function recordLeakAudit(what: string, leaked: number): void {
    leakAudits.push({ what, leaked });
}

/** A secrets scan ran and found `found` credential or endpoint occurrences. */
export function recordSecretsScan(what: string, found: number): void {
    secretScans.push({ what, found });
}

function ratio(map: Map<string, boolean>): string {
    if (map.size === 0) return "not run";
    return `${[...map.values()].filter(Boolean).length}/${map.size}`;
}

export function badInputTally(prefix = ""): { refused: number; total: number } {
    const rows = [...badInputs.entries()].filter(([label]) => label.startsWith(prefix));
    return { refused: rows.filter(([, ok]) => ok).length, total: rows.length };
}

/** The reliability line, from what was recorded so far. */
export function summaryLine(): string {
    const leaked = leakAudits.length ? String(leakAudits.reduce((n, a) => n + a.leaked, 0)) : "not audited";
    const secrets = secretScans.length ? String(secretScans.reduce((n, s) => n + s.found, 0)) : "not run";
    return (
        `reliability: faults survived ${ratio(faults)}, bad inputs refused ${ratio(badInputs)}, ` +
        `resources leaked ${leaked}, secrets found in state ${secrets}`
    );
}

/** One line per fault test that ran, for the person who wants the detail. */
export function faultDetail(): string[] {
    return [...faults.entries()].map(([title, ok]) => `${ok ? "survived" : "FAILED  "} ${title}`);
}

function isFaultTest(fullTitle: string): boolean {
    return fullTitle.startsWith(FAULT_SUITE_PREFIX) || EXTERNAL_FAULT_TESTS.some((t) => t.title.test(fullTitle));
}

// Root-level hooks, registered once (module cache) by the first test file that imports this.
// (Looked up on globalThis: outside mocha, e.g. in a script, the module just collects.)
const mochaGlobals = globalThis as { afterEach?: Mocha.HookFunction; after?: Mocha.HookFunction };
if (typeof mochaGlobals.afterEach === "function" && typeof mochaGlobals.after === "function") {
    mochaGlobals.afterEach(function recordFaultTests(this: Mocha.Context) {
        const test = this.currentTest;
        if (!test || (test.state !== "passed" && test.state !== "failed")) return;
        const title = test.fullTitle();
        if (isFaultTest(title)) recordFault(title, test.state === "passed");
    });
    mochaGlobals.after(function printReliabilitySummary() {
        const detail = faultDetail();
        if (detail.length) console.log(`      fault tests:\n${detail.map((d) => `        ${d}`).join("\n")}`);
        console.log(summaryLine());
    });
}
