/**
 * Root hooks for every test file (loaded by .mocharc.json's `require`, in mocha's root process
 * and in each --parallel worker), which feed the reliability line (reliability-summary.ts):
 * - before a file's tests: every fault test of the loaded suites is recorded as planned;
 * - after every test: a fault test that ran is recorded with its outcome;
 * - around every e2e test: an inventory of each running emulator before, and after it (also
 *   when it failed) a leak audit of every kind golden-ami makes (tests/support/audit.ts),
 *   ignoring what the harness made itself (fixtures through `Emulator.ec2`) and what a live
 *   stack still holds (a later test of the file uses it);
 * - every PulumiStack's state and backend files are scanned for secrets before it is removed,
 *   and at the end of the file for stacks not removed.
 */
import * as path from "path";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { ALL_KINDS, AccountInventory, describeLeaks, inventory, leakCount, unexpected } from "./audit";
import { Emulator } from "./emulator";
import { PulumiStack, RunResult } from "./pulumi";
import {
    isFaultTest, recordFault, recordFileTime, recordLeakAudit, recordLeakAuditError, recordNotAudited, recordPlannedFault, recordSecretsScan, runDir,
} from "./reliability-summary";
import { issuedNeedles, scanStack } from "./secrets-scan";

// Made here, in the root process, before any worker starts: the workers inherit GA_RUN_DIR.
runDir();

const E2E_DIR = path.resolve(__dirname, "..", "e2e") + path.sep;
/** Regions the e2e tests use; the audit adds any other region the emulator's call log shows. */
const AUDIT_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];

/** IDs the harness made through an emulator's clients (fixtures), per emulator. */
const madeByHarness = new WeakMap<Emulator, Set<string>>();

function collectIds(value: unknown, into: Set<string>): void {
    if (Array.isArray(value)) value.forEach((v) => collectIds(v, into));
    else if (value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            if (/^(ImageId|InstanceId|SnapshotId|VolumeId)$/.test(k) && typeof v === "string") into.add(v);
            else collectIds(v, into);
        }
    }
}

Emulator.clientHooks.push((client: EC2Client, emulator: Emulator) => {
    const made = madeByHarness.get(emulator) ?? new Set<string>();
    madeByHarness.set(emulator, made);
    client.middlewareStack.add(
        (next, context) => async (args) => {
            const result = await next(args);
            if (/^(Create|Copy|Run|Register|Import)/.test(context.commandName ?? "")) collectIds(result.output, made);
            return result;
        },
        { step: "initialize", name: "goldenAmiHarnessMade" },
    );
});

PulumiStack.beforeRemove.push(scanAndRecord);

async function scanAndRecord(stack: PulumiStack, exported?: RunResult): Promise<void> {
    const what = `stack ${stack.name} (${stack.options.program})`;
    try {
        // Credentials the emulators' STS issued (assumed roles) count as secrets too.
        const issued = (await Promise.all([...Emulator.running].map((e) => e.issuedCredentials().catch(() => [])))).flat();
        const hits = await scanStack(stack, exported, issuedNeedles(issued));
        recordSecretsScan(what, hits.length, hits);
    } catch (error) {
        recordSecretsScan(what, 1, [`the scan could not run: ${(error as Error).message.slice(0, 300)}`]);
    }
}

function isE2e(test: Mocha.Runnable | undefined): boolean {
    return Boolean(test?.file && path.resolve(test.file).startsWith(E2E_DIR));
}

function allTests(suite: Mocha.Suite): Mocha.Test[] {
    return [...suite.tests, ...suite.suites.flatMap(allTests)];
}

async function auditRegions(emulator: Emulator): Promise<string[]> {
    const seen = (await emulator.calls()).calls.map((c) => c.region).filter((r) => r && /^[a-z]{2}(-[a-z]+)+-\d$/.test(r));
    return [...new Set([...AUDIT_REGIONS, ...seen])].sort();
}

const baselines = new Map<Emulator, AccountInventory>();
/** In a --parallel worker the root hooks run once per file: the file's start, for its wall time. */
let fileStarted: { file: string; at: number } | undefined;

export const mochaHooks = {
    beforeAll(this: Mocha.Context) {
        // The suites of this run (of this file, in a --parallel worker): every fault test is planned.
        let root: Mocha.Suite | undefined = this.test?.parent;
        while (root?.parent) root = root.parent;
        const tests = root ? allTests(root) : [];
        for (const test of tests) {
            if (isFaultTest(test.fullTitle())) recordPlannedFault(test.fullTitle());
        }
        const file = tests.find((t) => t.file)?.file;
        if (process.env.MOCHA_WORKER_ID !== undefined && file) fileStarted = { file: path.relative(process.cwd(), file), at: Date.now() };
    },

    async beforeEach(this: Mocha.Context) {
        baselines.clear();
        if (!isE2e(this.currentTest)) return;
        for (const emulator of Emulator.running) {
            try {
                baselines.set(emulator, await inventory(emulator, await auditRegions(emulator), undefined, ALL_KINDS));
            } catch {
                // No baseline, no audit: afterEach records that the audit could not run.
            }
        }
    },

    async afterEach(this: Mocha.Context) {
        const test = this.currentTest;
        if (!test) return;
        const title = test.fullTitle();
        if (isFaultTest(title) && (test.state === "passed" || test.state === "failed")) recordFault(title, test.state === "passed");
        if (!isE2e(test)) return;

        const what = `e2e ${title}`;
        const emulators = [...Emulator.running];
        if (emulators.length === 0) {
            recordNotAudited(what, "no emulator of this test process was running");
            return;
        }
        let states: Promise<string[]> | undefined;
        const managed = async (id: string) => {
            // Exported once per test, and only when something new is left: most tests remove their stacks.
            states ??= Promise.all([...PulumiStack.live].map(async (s) => (await s.run(["stack", "export", "--show-secrets"])).stdout));
            return (await states).some((text) => text.includes(id));
        };
        let leaked = 0;
        const details: string[] = [];
        try {
            for (const emulator of emulators) {
                const before = baselines.get(emulator);
                if (!before) throw new Error(`no inventory of the emulator at ${emulator.endpoint} before the test`);
                await emulator.configure({ throttle: null }); // a test that failed mid-storm may leave it on
                const now = await inventory(emulator, await auditRegions(emulator), undefined, ALL_KINDS);
                const leaks = await unexpected(before, now, { made: madeByHarness.get(emulator) ?? new Set(), managed });
                leaked += leakCount(leaks);
                const said = describeLeaks(leaks);
                if (said) details.push(said);
            }
            recordLeakAudit(what, leaked, details.join("; "));
        } catch (error) {
            recordLeakAuditError(what, (error as Error).message.slice(0, 300));
        }
    },

    async afterAll() {
        // Stacks a test file did not remove: their state as the file leaves it.
        for (const stack of [...PulumiStack.live]) {
            await scanAndRecord(stack);
            PulumiStack.live.delete(stack);
        }
        if (fileStarted) recordFileTime(fileStarted.file, (Date.now() - fileStarted.at) / 1000);
        fileStarted = undefined;
    },
};
