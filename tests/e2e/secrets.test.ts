// Nothing secret or machine-specific reaches Pulumi state: after a real `pulumi up` run with
// distinctive random credentials in the environment, neither the exported state, nor any
// file of the backend (history and backups included), nor any serialized provider
// (`__provider`) contains a credential, the emulator's endpoint or its port. Every
// serialized provider stays small (the shim, not the SDK). And an image is never public
// unless asked.
import * as assert from "node:assert/strict";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { DescribeImageAttributeCommand, DescribeSnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import { inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator } from "../support/emulator";
import { PulumiStack, StateResource } from "../support/pulumi";
import { recordLeakAudit, recordSecretsScan } from "../support/reliability-summary";

const REGION = "us-east-1";
const TYPE = "pulumi-nodejs:dynamic/golden-ami:InstanceImage";
const MAX_PROVIDER_BYTES = 4096;

/** Random values of the shapes AWS uses, distinctive enough that any occurrence is a leak. */
function randomCredentials(): Record<"AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN", string> {
    const alnum = (n: number) => randomBytes(n * 2).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, n).toUpperCase();
    return {
        AWS_ACCESS_KEY_ID: `ASIA${alnum(16)}`,
        AWS_SECRET_ACCESS_KEY: randomBytes(30).toString("base64"), // 40 characters, like a real one
        AWS_SESSION_TOKEN: `GaTest//${randomBytes(96).toString("base64")}`,
    };
}

/** Every `__provider` value anywhere in a resource's inputs and outputs. */
function serializedProviders(resources: StateResource[]): Array<{ urn: string; where: string; text: string }> {
    const found: Array<{ urn: string; where: string; text: string }> = [];
    const walk = (urn: string, where: string, value: unknown) => {
        if (Array.isArray(value)) value.forEach((v, i) => walk(urn, `${where}[${i}]`, v));
        else if (value && typeof value === "object") {
            for (const [k, v] of Object.entries(value)) {
                if (k === "__provider") found.push({ urn, where: `${where}.${k}`, text: typeof v === "string" ? v : JSON.stringify(v) });
                else walk(urn, `${where}.${k}`, v);
            }
        }
    };
    for (const r of resources) {
        walk(r.urn, "inputs", r.inputs);
        walk(r.urn, "outputs", r.outputs);
    }
    return found;
}

function filesUnder(dir: string): string[] {
    return fs.readdirSync(dir, { recursive: true, encoding: "utf8" })
        .map((f) => path.join(dir, f))
        .filter((f) => fs.statSync(f).isFile());
}

describe("e2e: no secret in state, no public image unless asked", function () {
    let emulator: Emulator;

    before(async () => {
        emulator = await Emulator.start({ timing: { instancePending: 1, instanceStopping: 1, imagePending: 2 } });
    });

    after(async () => {
        await emulator?.stop();
    });

    it("a `pulumi up` with random credentials leaves no credential, endpoint or port in state, backend files or providers", async () => {
        const baseline = await inventory(emulator, [REGION]);
        const instanceId = await emulator.launchInstance(REGION);
        const credentials = randomCredentials();
        const port = new URL(emulator.endpoint).port;
        const stack = await PulumiStack.create({
            program: "instance-image",
            env: { ...emulator.env(REGION), ...credentials },
            config: { "aws:region": REGION, instanceId, tags: JSON.stringify({ team: "platform" }) },
        });
        try {
            await emulator.resetCalls(); // the set-up above signed with the emulator's own test key
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            // The random credentials were really the ones used: the emulator saw the image made,
            // and every EC2 call of the up was signed with the random access key ID (none fell back to other credentials).
            const { calls } = await emulator.calls();
            assert.ok(calls.some((c) => c.action === "CreateImage" && c.status === 200), "the up made the image");
            assert.deepEqual([...new Set(calls.map((c) => c.accessKeyId))], [credentials.AWS_ACCESS_KEY_ID], "access key IDs that signed the up's calls");

            const needles: Array<[string, string]> = [
                ...Object.entries(credentials).map(([k, v]): [string, string] => [k, v]),
                // The secret's longest run without base64 punctuation, in case something re-encodes around it.
                ["AWS_SECRET_ACCESS_KEY (fragment)", credentials.AWS_SECRET_ACCESS_KEY.split(/[+/=]/).sort((a, b) => b.length - a.length)[0]],
                ["emulator endpoint", emulator.endpoint],
                ["emulator host:port", `127.0.0.1:${port}`],
                ["emulator localhost:port", `localhost:${port}`],
                ["emulator port", `:${port}`],
            ];
            const hits: string[] = [];
            const scan = (what: string, text: string) => {
                for (const [name, value] of needles) if (value && text.includes(value)) hits.push(`${name} in ${what}`);
            };

            const exported = JSON.stringify(await stack.state());
            scan("`pulumi stack export --show-secrets`", exported);
            const files = filesUnder(stack.backendDir);
            assert.ok(files.length > 0, `backend ${stack.backendDir} has files`);
            for (const file of files) scan(`backend file ${path.relative(stack.backendDir, file)}`, fs.readFileSync(file, "utf8"));

            const resources = (await stack.state()).deployment.resources ?? [];
            const providers = serializedProviders(resources);
            assert.ok(providers.length > 0, "the dynamic resource carries a serialized provider");
            for (const p of providers) {
                scan(`${p.urn} ${p.where}`, p.text);
                assert.ok(
                    Buffer.byteLength(p.text) < MAX_PROVIDER_BYTES,
                    `${p.urn} ${p.where} is ${Buffer.byteLength(p.text)} bytes (limit ${MAX_PROVIDER_BYTES}): the SDK or a client was captured`,
                );
            }
            const sizes = [...new Set(providers.map((p) => Buffer.byteLength(p.text)))].join(", ");

            recordSecretsScan("state after pulumi up", hits.length);
            console.log(`      scanned state, ${files.length} backend files and ${providers.length} serialized providers (${sizes} bytes)`);
            console.log(`      secrets found in state: ${hits.length}`);
            assert.deepEqual(hits, [], "credential or endpoint found");
            // The CLI's own output does not echo them either (it ends up in CI logs).
            const output = up.stdout + up.stderr;
            assert.deepEqual(needles.filter(([name, v]) => name.startsWith("AWS_") && output.includes(v)).map(([name]) => name), [], "credential printed by pulumi up");

            assert.equal((await stack.destroy()).code, 0);
            const leaked = leakCount(await leakedSince(emulator, baseline, [REGION]));
            recordLeakAudit("secrets", leaked);
            assert.equal(leaked, 0);
        } finally {
            await stack.remove();
        }
    });

    it("the image and its snapshots are not public unless asked (no launch / create-volume permission for group all)", async () => {
        const baseline = await inventory(emulator, [REGION]);
        const instanceId = await emulator.launchInstance(REGION);
        const stack = await PulumiStack.create({
            program: "instance-image",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, instanceId },
        });
        try {
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const [image] = await stack.resourcesOfType(TYPE);
            const imageId = image.id!;
            const snapshotIds = (image.outputs?.snapshotIds as string[]) ?? [];
            assert.ok(snapshotIds.length > 0);
            const ec2 = emulator.ec2(REGION);
            const launch = await ec2.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" }));
            assert.deepEqual(launch.LaunchPermissions ?? [], [], `image ${imageId} launch permissions`);
            for (const snapshotId of snapshotIds) {
                const volume = await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" }));
                assert.ok(!(volume.CreateVolumePermissions ?? []).some((p) => p.Group === "all"), `snapshot ${snapshotId} is public`);
            }
            assert.notEqual(image.outputs?.public, true, "state does not claim the image is public");

            assert.equal((await stack.destroy()).code, 0);
            const leaked = leakCount(await leakedSince(emulator, baseline, [REGION]));
            recordLeakAudit("not public", leaked);
            assert.equal(leaked, 0);
        } finally {
            await stack.remove();
        }
    });
});
