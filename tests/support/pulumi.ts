/**
 * The tests' way to the Pulumi CLI: the stack runner is shared harness code in
 * scripts/harness/pulumi-stack.ts (the bench uses it too), re-exported here, plus what only
 * tests need (killing an interrupted CLI with its plugins, looking for a line in its output).
 */
import * as fs from "fs";
import { newBackendDir, PulumiStack, RunResult } from "../../scripts/harness/pulumi-stack";

export * from "../../scripts/harness/pulumi-stack";

/** PIDs of every process below `pid` (children, grandchildren, ...), from /proc. */
export function descendants(pid: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
        } catch {
            // the process ended while we looked
        }
    }
    const out: number[] = [];
    const stack = [pid];
    while (stack.length) {
        for (const child of children.get(stack.pop()!) ?? []) {
            out.push(child);
            stack.push(child);
        }
    }
    return out;
}

/**
 * SIGKILLs a process and everything below it at once, as a crash of the machine would.
 * (The Pulumi CLI starts its plugins in process groups of their own, so killing the CLI's
 * group alone would leave the language host and the provider running.)
 */
export function killTree(pid: number): void {
    for (const p of [pid, ...descendants(pid)]) {
        try {
            process.kill(p, "SIGKILL");
        } catch {
            // already gone
        }
    }
}

/** True when the CLI's combined output mentions `text`. */
export function said(result: RunResult, text: string | RegExp): boolean {
    const all = `${result.stdout}\n${result.stderr}`;
    return typeof text === "string" ? all.includes(text) : text.test(all);
}

/**
 * Generations end to end: a stack of the repository's program (index.ts) in build mode, with
 * one copy region, on its own backend; `rebuild` captures a fresh instance (a new recipe: the
 * next generation) with `pulumi up` and answers the outputs.
 */
export async function generationsStack(
    emulator: { env(region: string): Record<string, string>; launchInstance(region: string): Promise<string> },
    regions: { build: string; copy: string },
    config: Record<string, string>,
): Promise<{ stack: PulumiStack; rebuild(): Promise<Record<string, unknown>> }> {
    const stack = await PulumiStack.create({
        program: "golden",
        backendDir: newBackendDir(),
        env: emulator.env(regions.build),
        config: { "aws:region": regions.build, "golden-ami:mode": "build", "golden-ami:copyToRegions": JSON.stringify([regions.copy]), ...config },
    });
    async function rebuild(): Promise<Record<string, unknown>> {
        await stack.setConfig({ "golden-ami:existingInstanceId": await emulator.launchInstance(regions.build) });
        const up = await stack.up();
        if (up.code !== 0) throw new Error(`pulumi up failed (${up.code}): ${up.stdout}${up.stderr}`);
        return stack.outputs();
    }
    return { stack, rebuild };
}
