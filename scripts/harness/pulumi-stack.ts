/**
 * Runs the real Pulumi CLI (built by scripts/toolchain.sh, on PATH under `npm test` and
 * `npm run bench`) on a program directory, each stack in a backend directory of its own.
 * Shared harness code: the tests (through tests/support/pulumi.ts) and the bench use it, so it
 * lives outside tests/ and imports no test framework.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";

const execFileAsync = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PROGRAMS_DIR = path.join(REPO_ROOT, "tests", "e2e", "programs");

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface StackOptions {
    /** Directory name under tests/e2e/programs, or an absolute path to a program directory. */
    program: string;
    /** Stack configuration (`project:key` or `key`), set with `pulumi config set`. */
    config?: Record<string, string>;
    /** Extra environment for every CLI run (the emulator's, for example). */
    env?: Record<string, string>;
    /** Stack name; unique by default. */
    stackName?: string;
    /** Backend directory; a fresh one by default. Stacks that reference each other share one. */
    backendDir?: string;
}

/** A fresh backend directory under .ga/ (ignored by git). */
export function newBackendDir(): string {
    const root = path.join(REPO_ROOT, ".ga", "e2e-state");
    fs.mkdirSync(root, { recursive: true });
    return fs.mkdtempSync(path.join(root, "backend-"));
}

/**
 * PULUMI_HOME of this process: a directory of its own under the run's PULUMI_HOME, so test files
 * running side by side (mocha --parallel workers) never write the same workspace file (the CLI
 * rewrites `workspaces/<project>-<hash>-workspace.json` on every `stack init`). Plugins live
 * beside the CLI binary (scripts/toolchain.sh), so the directory needs nothing else.
 */
function processPulumiHome(): string {
    const home = path.join(process.env.PULUMI_HOME ?? path.join(REPO_ROOT, ".ga", "pulumi-home"), `p${process.pid}`);
    fs.mkdirSync(home, { recursive: true });
    return home;
}

export class PulumiStack {
    /** Stacks made by this process and not yet removed (the root hooks audit and scan them). */
    static readonly live = new Set<PulumiStack>();
    /** Run by `remove()` with the stack's export before it destroys the stack (the root hooks scan it for secrets). */
    static readonly beforeRemove: Array<(stack: PulumiStack, exported: RunResult) => Promise<void>> = [];
    readonly cwd: string;
    readonly env: NodeJS.ProcessEnv;

    private constructor(readonly name: string, readonly options: StackOptions, readonly backendDir: string) {
        this.cwd = path.resolve(PROGRAMS_DIR, options.program);
        this.env = {
            ...process.env,
            ...options.env,
            PULUMI_BACKEND_URL: `file://${backendDir}`,
            PULUMI_HOME: processPulumiHome(),
            PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "golden-ami-tests",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            // Programs are type-checked by `npm test` (tsc); the engine run only transpiles.
            PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        };
    }

    /** `pulumi stack init` plus configuration. */
    static async create(options: StackOptions): Promise<PulumiStack> {
        // The pid keeps names apart between processes (the stack config file lands in the shared program directory).
        const name = options.stackName ?? `t${process.pid.toString(36)}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
        const stack = new PulumiStack(name, options, options.backendDir ?? newBackendDir());
        await stack.mustRun(["stack", "init"]);
        PulumiStack.live.add(stack);
        if (options.config) await stack.setConfig(options.config);
        return stack;
    }

    async setConfig(config: Record<string, string>): Promise<void> {
        const pairs = Object.entries(config).flatMap(([k, v]) => ["--plaintext", `${k}=${v}`]);
        if (pairs.length) await this.mustRun(["config", "set-all", ...pairs]);
    }

    async removeConfig(key: string): Promise<void> {
        await this.mustRun(["config", "rm", key]);
    }

    /** Runs `pulumi <args> --stack <name>`; never throws on a non-zero exit. */
    run(args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
        return execFileAsync("pulumi", [...args, "--stack", this.name, "--non-interactive", "--color", "never"], {
            cwd: this.cwd,
            env: { ...this.env, ...extraEnv },
            maxBuffer: 64 * 1024 * 1024,
        }).then(
            ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
            (err: { code?: number; stdout?: string; stderr?: string }) => ({
                code: typeof err.code === "number" ? err.code : 1,
                stdout: err.stdout ?? "",
                stderr: err.stderr ?? String(err),
            }),
        );
    }

    /** Like run, but throws with the CLI's output when it fails. */
    async mustRun(args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
        const result = await this.run(args, extraEnv);
        if (result.code !== 0) {
            throw new Error(`pulumi ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
        }
        return result;
    }

    up(extra: string[] = []): Promise<RunResult> {
        return this.run(["up", "--yes", "--skip-preview", ...extra]);
    }

    preview(extra: string[] = []): Promise<RunResult> {
        return this.run(["preview", ...extra]);
    }

    refresh(extra: string[] = []): Promise<RunResult> {
        return this.run(["refresh", "--yes", "--skip-preview", ...extra]);
    }

    destroy(extra: string[] = []): Promise<RunResult> {
        return this.run(["destroy", "--yes", "--skip-preview", ...extra]);
    }

    /** `pulumi up` as a child process, for tests that interrupt it. */
    spawnUp(extra: string[] = []): ChildProcess {
        return spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", this.name, "--non-interactive", ...extra], {
            cwd: this.cwd,
            env: this.env,
            stdio: ["ignore", "pipe", "pipe"],
            detached: true, // its own process group, so a test can kill the CLI with its plugins
        });
    }

    async outputs(): Promise<Record<string, unknown>> {
        const { stdout } = await this.mustRun(["stack", "output", "--json", "--show-secrets"]);
        return JSON.parse(stdout) as Record<string, unknown>;
    }

    /** The checkpoint (`pulumi stack export`), resources and all. */
    async state(): Promise<{ deployment: { resources?: StateResource[]; pending_operations?: unknown[] } }> {
        const { stdout } = await this.mustRun(["stack", "export", "--show-secrets"]);
        return JSON.parse(stdout);
    }

    /** Resources of one type in state, e.g. "pulumi-nodejs:dynamic/golden-ami:InstanceImage". */
    async resourcesOfType(type: string): Promise<StateResource[]> {
        const { deployment } = await this.state();
        return (deployment.resources ?? []).filter((r) => r.type === type);
    }

    /** Destroys what is left and removes the stack and its stack config file. */
    async remove(): Promise<void> {
        await this.run(["cancel", "--yes"]); // a test that killed an update left the lock behind
        const exported = await this.run(["stack", "export", "--show-secrets"]);
        for (const hook of PulumiStack.beforeRemove) await hook(this, exported);
        // Most tests destroy their stack themselves: a second, empty destroy would start the engine for nothing.
        if (exported.code !== 0 || holdsResources(exported.stdout)) await this.run(["destroy", "--yes", "--skip-preview"]);
        await this.run(["stack", "rm", "--yes", "--force"]);
        fs.rmSync(path.join(this.cwd, `Pulumi.${this.name}.yaml`), { force: true });
        PulumiStack.live.delete(this);
    }
}

/** True when an exported checkpoint holds anything but the stack itself and provider references. */
function holdsResources(exported: string): boolean {
    try {
        const { deployment } = JSON.parse(exported) as { deployment?: { resources?: StateResource[]; pending_operations?: unknown[] } };
        const resources = (deployment?.resources ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"));
        return resources.length > 0 || (deployment?.pending_operations ?? []).length > 0;
    } catch {
        return true; // unreadable: destroy, to be safe
    }
}

export interface StateResource {
    urn: string;
    type: string;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    custom?: boolean;
    parent?: string;
    initErrors?: string[];
}
