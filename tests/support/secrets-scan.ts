/**
 * The secrets scan over a Pulumi stack: its exported state (`pulumi stack export
 * --show-secrets`, secrets decrypted) and every file of its backend directory (history and
 * backups included) must not contain a credential or the endpoint of the process that ran
 * `pulumi`. tests/support/root-hooks.ts runs it on every PulumiStack an e2e test makes.
 */
import * as fs from "fs";
import * as path from "path";
import type { PulumiStack, RunResult } from "./pulumi";

/** Credentials shorter than this are not looked for: a short dummy ("x") would match anywhere. */
const MIN_CREDENTIAL_LENGTH = 16;

/** [what, value] pairs that must not occur in state, from the environment `pulumi` ran with. */
export function needlesFor(env: NodeJS.ProcessEnv): Array<[string, string]> {
    const needles: Array<[string, string]> = [];
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
        const value = env[key];
        if (value && value.length >= MIN_CREDENTIAL_LENGTH) needles.push([key, value]);
    }
    for (const key of ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2"]) {
        const value = env[key];
        if (!value) continue;
        needles.push([key, value]);
        const url = new URL(value);
        if (url.port) needles.push([`${key} host:port`, `${url.hostname}:${url.port}`], [`${key} localhost:port`, `localhost:${url.port}`]);
    }
    return needles;
}

/** Needles for credentials issued while the stack ran (the emulator's STS: assumed roles' keys and session tokens). */
export function issuedNeedles(issued: Array<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>): Array<[string, string]> {
    return issued.flatMap((c, i): Array<[string, string]> => [
        [`issued access key ${i + 1}`, c.accessKeyId],
        [`issued secret key ${i + 1}`, c.secretAccessKey],
        [`issued session token ${i + 1}`, c.sessionToken],
    ]).filter(([, v]) => v && v.length >= MIN_CREDENTIAL_LENGTH);
}

/** The names of the needles `text` contains, each as "<name> in <where>". */
export function scanText(text: string, needles: Array<[string, string]>, where: string): string[] {
    return needles.filter(([, value]) => text.includes(value)).map(([name]) => `${name} in ${where}`);
}

function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { recursive: true, encoding: "utf8" })
        .map((f) => path.join(dir, f))
        .filter((f) => fs.statSync(f).isFile());
}

/** Scans a stack's exported state (`exported`, or exported now) and its backend files; returns the hits (empty when clean). */
export async function scanStack(stack: PulumiStack, exported?: RunResult, extra: Array<[string, string]> = []): Promise<string[]> {
    const needles = [...needlesFor(stack.env), ...extra];
    exported ??= await stack.run(["stack", "export", "--show-secrets"]);
    if (exported.code !== 0) throw new Error(`pulumi stack export failed: ${exported.stderr}`);
    const hits = scanText(exported.stdout, needles, `stack ${stack.name} export`);
    for (const file of filesUnder(stack.backendDir)) {
        hits.push(...scanText(fs.readFileSync(file, "utf8"), needles, `backend file ${path.relative(stack.backendDir, file)}`));
    }
    return hits;
}
