// golden-ami acts where the AWS provider of the same stack acts, with the real engine: the
// stack's aws:profile (a profile of a test shared-config file whose role is in another
// account) wins over the environment's credentials; aws:assumeRoles acts in the role's
// account; aws:defaultTags land on the image, its snapshots and the copy; an account that
// aws:allowedAccountIds does not allow is refused before any change, naming both accounts; and
// no key, session token or endpoint — the environment's, the profile's or any the emulator's
// STS issued — reaches state, backend files or a serialized provider.
import * as assert from "node:assert/strict";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DescribeImagesCommand, DescribeSnapshotsCommand } from "@aws-sdk/client-ec2";
import { ACCOUNT_ID, inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator } from "../support/emulator";
import { PulumiStack } from "../support/pulumi";
import { recordLeakAudit, recordSecretsScan } from "../support/reliability-summary";
import { issuedNeedles, scanStack } from "../support/secrets-scan";

const REGION = "us-east-1";
const COPY_REGION = "us-west-2";
const REGIONS = [REGION, COPY_REGION];
const PROFILE_ACCOUNT = "333344445555";
const ROLE_ACCOUNT = "444455556666";
const MUTATIONS = ["CreateImage", "CopyImage", "StopInstances", "StartInstances", "CreateTags", "DeleteTags", "ModifyImageAttribute", "DeregisterImage", "DeleteSnapshot"];

const randomKey = (prefix: string) => `${prefix}${randomBytes(12).toString("hex").toUpperCase()}`;
const tagsOf = (list: Array<{ Key?: string; Value?: string }> | undefined) =>
    Object.fromEntries((list ?? []).filter((t) => !t.Key!.startsWith("golden-ami:")).map((t) => [t.Key!, t.Value!]));

describe("e2e: the stack's aws:* settings (two accounts)", function () {
    let emulator: Emulator;
    let dir: string;

    before(async () => {
        emulator = await Emulator.start({ timing: { instancePending: 1, instanceStopping: 1, imagePending: 1, copyPending: 1 } });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ga-aws-settings-"));
    });

    after(async () => {
        fs.rmSync(dir, { recursive: true, force: true });
        await emulator?.stop();
    });

    /** The environment `pulumi` runs with: the emulator's endpoint and random keys of the default account. */
    function environment(): Record<string, string> {
        return { ...emulator.env(REGION), AWS_ACCESS_KEY_ID: randomKey("AKIA"), AWS_SECRET_ACCESS_KEY: randomBytes(30).toString("base64") };
    }

    async function setPath(stack: PulumiStack, values: Record<string, string>): Promise<void> {
        for (const [key, value] of Object.entries(values)) await stack.mustRun(["config", "set", "--path", key, value]);
    }

    async function image(accountId: string, region: string, imageId: string) {
        const out = await emulator.ec2(region, accountId).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
        return out.Images![0];
    }

    async function snapshotTags(accountId: string, region: string, snapshotIds: string[]) {
        const out = await emulator.ec2(region, accountId).send(new DescribeSnapshotsCommand({ SnapshotIds: snapshotIds }));
        return (out.Snapshots ?? []).map((s) => tagsOf(s.Tags));
    }

    /** The secrets scan with the issued credentials and `extra` as needles too; asserts it finds nothing. */
    async function assertNoSecrets(stack: PulumiStack, what: string, extra: Array<[string, string]> = []): Promise<void> {
        const issued = await emulator.issuedCredentials();
        assert.ok(issued.length > 0, "the emulator's STS issued the credentials golden-ami acted with");
        const hits = await scanStack(stack, undefined, [...issuedNeedles(issued), ...extra]);
        recordSecretsScan(what, hits.length, hits);
        assert.deepEqual(hits, [], "credential or endpoint in state");
    }

    it("aws:profile of a shared config file wins over the environment; aws:defaultTags on the image, its snapshots and the copy", async () => {
        const baseline = await inventory(emulator, REGIONS, PROFILE_ACCOUNT);
        const base = { id: randomKey("AKIA"), secret: randomBytes(30).toString("base64") };
        const configFile = path.join(dir, "config");
        fs.writeFileSync(configFile, [
            "[profile base]", `aws_access_key_id = ${base.id}`, `aws_secret_access_key = ${base.secret}`, "",
            "[profile tooling]", `role_arn = arn:aws:iam::${PROFILE_ACCOUNT}:role/tooling`, "source_profile = base", "role_session_name = golden-ami-e2e", "",
        ].join("\n"));
        const instanceId = await emulator.launchInstance(REGION, { accountId: PROFILE_ACCOUNT });
        const env = environment();
        const stack = await PulumiStack.create({
            program: "aws-settings",
            env,
            config: { "aws:region": REGION, "aws:profile": "tooling", instanceId, copyRegion: COPY_REGION },
        });
        try {
            await setPath(stack, { "aws:sharedConfigFiles[0]": configFile, "aws:defaultTags.tags.team": "platform", "aws:defaultTags.tags.role": "from-defaults" });
            await emulator.resetCalls();
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const out = await stack.outputs() as { imageId: string; ownerId: string; snapshotIds: string[]; copyId: string; copySnapshotIds: string[] };
            assert.equal(out.ownerId, PROFILE_ACCOUNT, "the image is in the profile's account");
            const signers = new Set((await emulator.calls()).calls.filter((c) => c.region === REGION || c.region === COPY_REGION).map((c) => c.accessKeyId));
            assert.ok(!signers.has(env.AWS_ACCESS_KEY_ID), "no EC2 call was signed with the environment's key");

            assert.deepEqual(tagsOf((await image(PROFILE_ACCOUNT, REGION, out.imageId)).Tags), { team: "platform", role: "web" }, "image: default tags under its own");
            for (const tags of await snapshotTags(PROFILE_ACCOUNT, REGION, out.snapshotIds)) assert.deepEqual(tags, { team: "platform", role: "web-disk" });
            assert.deepEqual(tagsOf((await image(PROFILE_ACCOUNT, COPY_REGION, out.copyId)).Tags), { team: "platform", role: "web-copy" }, "copy");
            for (const tags of await snapshotTags(PROFILE_ACCOUNT, COPY_REGION, out.copySnapshotIds)) assert.deepEqual(tags, { team: "platform", role: "from-defaults" });

            await assertNoSecrets(stack, "aws:profile stack", [["profile key", base.id], ["profile secret", base.secret]]);
            const down = await stack.destroy();
            assert.equal(down.code, 0, down.stdout + down.stderr);
            const leaked = leakCount(await leakedSince(emulator, baseline, REGIONS, PROFILE_ACCOUNT));
            recordLeakAudit("aws:profile account", leaked);
            assert.equal(leaked, 0);
        } finally {
            await stack.remove();
        }
    });

    it("aws:assumeRoles: an account aws:allowedAccountIds does not allow is refused before any change; then it acts in the role's account", async () => {
        const baseline = await inventory(emulator, REGIONS, ROLE_ACCOUNT);
        const instanceId = await emulator.launchInstance(REGION, { accountId: ROLE_ACCOUNT });
        const stack = await PulumiStack.create({ program: "aws-settings", env: environment(), config: { "aws:region": REGION, instanceId } });
        try {
            await setPath(stack, {
                "aws:assumeRoles[0].roleArn": `arn:aws:iam::${ROLE_ACCOUNT}:role/image-builder`,
                "aws:assumeRoles[0].sessionName": "golden-ami-e2e",
                "aws:assumeRoles[0].duration": "1h",
                "aws:allowedAccountIds[0]": ACCOUNT_ID,
            });
            await emulator.resetCalls();
            const refused = await stack.up();
            assert.notEqual(refused.code, 0, "the up was refused");
            const said = refused.stdout + refused.stderr;
            assert.ok(said.includes(`act as account ${ROLE_ACCOUNT}`) && said.includes(`allows only ${ACCOUNT_ID}`), said);
            assert.match(said, /nothing was changed/);
            const changes = (await emulator.calls()).calls.filter((c) => MUTATIONS.includes(c.action));
            assert.deepEqual(changes.map((c) => c.action), [], "no change reached EC2");
            assert.equal(leakCount(await leakedSince(emulator, baseline, REGIONS, ROLE_ACCOUNT)), 0);

            await stack.removeConfig("aws:allowedAccountIds");
            await setPath(stack, { "aws:forbiddenAccountIds[0]": ACCOUNT_ID });
            const up = await stack.up();
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const out = await stack.outputs() as { imageId: string; ownerId: string };
            assert.equal(out.ownerId, ROLE_ACCOUNT, "the image is in the role's account");
            assert.equal((await image(ROLE_ACCOUNT, REGION, out.imageId)).OwnerId, ROLE_ACCOUNT);

            await assertNoSecrets(stack, "aws:assumeRoles stack");
            const down = await stack.destroy();
            assert.equal(down.code, 0, down.stdout + down.stderr);
            const leaked = leakCount(await leakedSince(emulator, baseline, REGIONS, ROLE_ACCOUNT));
            recordLeakAudit("aws:assumeRoles account", leaked);
            assert.equal(leaked, 0);
        } finally {
            await stack.remove();
        }
    });
});
