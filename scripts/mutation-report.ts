/**
 * Turns StrykerJS's JSON report (reports/mutation/mutation.json, written by `npm run mutate`)
 * into the Markdown tables of docs/mutation-testing.md: the mutation score per module and per
 * directory, and the mutants that survived in the files asked for, with file:line and mutator.
 * So the doc is regenerated from a run, never typed in. Several reports (runs over different
 * module groups, `--mutate`) are merged: a file's mutants come from the last report that has it.
 *
 *   npx ts-node --transpile-only scripts/mutation-report.ts [--report FILE]... [--survivors a.ts,b.ts]
 */
import * as fs from "fs";
import * as path from "path";

const REPO_ROOT = path.resolve(__dirname, "..");

/** The part of the mutation-testing-report-schema (stryker-mutator/mutation-testing-elements) read here. */
interface Mutant {
    id: string;
    mutatorName: string;
    replacement?: string;
    status: "Killed" | "Survived" | "NoCoverage" | "Timeout" | "CompileError" | "RuntimeError" | "Ignored" | "Pending";
    /** Why: for Ignored, "Static mutant (and "ignoreStatic" was enabled)" when the run had --ignoreStatic. */
    statusReason?: string;
    location: { start: { line: number; column: number } };
}
interface Report {
    files: Record<string, { mutants: Mutant[] }>;
}

interface Tally {
    killed: number;
    timeout: number;
    survived: number;
    noCoverage: number;
    compileError: number;
    /** Not run: static mutants of a run with --ignoreStatic (outside the score, as Stryker counts). */
    ignored: number;
    other: number;
}

function tally(mutants: Mutant[]): Tally {
    const t: Tally = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, compileError: 0, ignored: 0, other: 0 };
    for (const m of mutants) {
        if (m.status === "Killed") t.killed++;
        else if (m.status === "Timeout") t.timeout++;
        else if (m.status === "Survived") t.survived++;
        else if (m.status === "NoCoverage") t.noCoverage++;
        else if (m.status === "CompileError") t.compileError++;
        else if (m.status === "Ignored") t.ignored++;
        else t.other++;
    }
    return t;
}

/** Stryker's mutation score: detected (killed or timed out) over the valid mutants (not compile errors). */
function score(t: Tally): number {
    const valid = t.killed + t.timeout + t.survived + t.noCoverage;
    return valid ? (100 * (t.killed + t.timeout)) / valid : NaN;
}

/** The same over the mutants some test reached (what the tests that run there miss). */
function coveredScore(t: Tally): number {
    const covered = t.killed + t.timeout + t.survived;
    return covered ? (100 * (t.killed + t.timeout)) / covered : NaN;
}

function pct(n: number): string {
    return Number.isNaN(n) ? "—" : n.toFixed(1);
}

function row(name: string, t: Tally): string {
    return `| ${name} | ${pct(score(t))} | ${pct(coveredScore(t))} | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.noCoverage} | ${t.compileError} | ${t.ignored} |`;
}

const HEADER = [
    "| module | score % | covered score % | killed | timeout | survived | no coverage | compile errors | not run (static) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
];

export function scoreTables(report: Report): string {
    const files = Object.keys(report.files).sort();
    const out = ["Per module:", "", ...HEADER];
    for (const f of files) out.push(row(f, tally(report.files[f].mutants)));
    const dirs = [...new Set(files.map((f) => path.posix.dirname(f)))].sort();
    out.push("", "Per directory:", "", ...HEADER.map((h) => h.replace("| module |", "| directory |")));
    for (const d of dirs) {
        out.push(row(`${d}/`, tally(files.filter((f) => path.posix.dirname(f) === d).flatMap((f) => report.files[f].mutants))));
    }
    out.push(row("**all**", tally(files.flatMap((f) => report.files[f].mutants))));
    return out.join("\n");
}

/** The mutants no test failed on (survived, or reached by no test) in `file`, in line order. */
export function survivorTable(report: Report, file: string): string {
    const entry = report.files[file];
    if (!entry) return `${file}: not in this report (not mutated in the run).`;
    const left = entry.mutants
        .filter((m) => m.status === "Survived" || m.status === "NoCoverage")
        .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
    if (!left.length) return `${file}: no surviving mutant.`;
    const shown = (s: string | undefined) => {
        const one = (s ?? "").replace(/\s+/g, " ").trim();
        return (one.length > 70 ? `${one.slice(0, 67)}...` : one).replace(/\|/g, "\\|").replace(/`/g, "'");
    };
    return [
        `${file}: ${left.length} surviving mutant${left.length > 1 ? "s" : ""}`,
        "",
        "| where | mutator | status | replacement |",
        "|---|---|---|---|",
        ...left.map((m) => `| ${file}:${m.location.start.line}:${m.location.start.column} | ${m.mutatorName} | ${m.status} | \`${shown(m.replacement)}\` |`),
    ].join("\n");
}

/** One report of the files of several: each file from the last report that has it. */
export function mergeReports(reports: Report[]): Report {
    const files: Report["files"] = {};
    for (const r of reports) Object.assign(files, r.files);
    return { files };
}

function main(argv: string[]): void {
    const reportFiles: string[] = [];
    let survivors: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--report") reportFiles.push(path.resolve(argv[++i]));
        else if (argv[i] === "--survivors") survivors = argv[++i].split(",").filter(Boolean);
        else throw new Error(`unknown argument ${argv[i]} (usage: mutation-report.ts [--report FILE]... [--survivors a.ts,b.ts])`);
    }
    if (!reportFiles.length) reportFiles.push(path.join(REPO_ROOT, "reports", "mutation", "mutation.json"));
    for (const f of reportFiles) if (!fs.existsSync(f)) throw new Error(`${f} does not exist: run \`npm run mutate\` first`);
    const report = mergeReports(reportFiles.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Report));
    const parts = [scoreTables(report), ...survivors.map((f) => survivorTable(report, f))];
    console.log(parts.join("\n\n"));
}

if (require.main === module) main(process.argv.slice(2));
