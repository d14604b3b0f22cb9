// A copy into another account (ImageCopy roleArn + shareSource) against the emulator's two
// accounts: the source, made in the stack's account, is shared with the target for the copy
// only; the copy is made in the target account under its role and is that account's; the share
// is withdrawn once the copy is available; delete removes the copy in the target account.
import * as assert from "node:assert/strict";
import { DescribeImageAttributeCommand, DescribeImagesCommand, DescribeSnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import { CreateKeyCommand, KMSClient, ListGrantsCommand } from "@aws-sdk/client-kms";
import { GoldenAmiError } from "../../providers/core/errors";
import { forgetShares } from "../../providers/lifecycle/image-copy";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { configureStack, resetClients } from "../../providers/ec2/client";
import { resetIdentities } from "../../providers/ec2/identity";
import { providers } from "../../providers/runtime";
import { ACCOUNT_ID, ALL_KINDS, inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator } from "../support/emulator";
import { recordLeakAudit } from "../support/reliability-summary";

const REGION = "us-east-1";
const TARGET = "666677778888";
const ROLE = `arn:aws:iam::${TARGET}:role/golden-ami-target`;
const URN = (name: string, kind: string) => `urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:${kind}::${name}`;

describe("integration: a copy into another account (emulator, two accounts)", function () {
    let emulator: Emulator;
    let savedEnv: NodeJS.ProcessEnv;

    before(async function () {
        emulator = await Emulator.start();
        savedEnv = { ...process.env };
        Object.assign(process.env, emulator.env(REGION));
        configureStack({});
        resetClients();
        resetIdentities();
    });

    after(async function () {
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        await emulator?.stop();
    });

    async function made(kind: "InstanceImage" | "ImageCopy", name: string, props: Record<string, unknown>) {
        const provider = providers[kind];
        const checked = await provider.check!({}, { resourceUrn: URN(name, kind), region: REGION, ...props });
        assert.deepEqual(checked.failures ?? [], []);
        const inputs = { ...checked.inputs, __provider: "x" };
        return { inputs, result: await provider.create(inputs) };
    }

    async function sharedWithTarget(imageId: string, snapshotIds: string[]): Promise<string[]> {
        const client = emulator.ec2(REGION, ACCOUNT_ID);
        const found: string[] = [];
        const launch = await client.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" }));
        if ((launch.LaunchPermissions ?? []).some((p) => p.UserId === TARGET)) found.push(imageId);
        for (const snapshotId of snapshotIds) {
            const perms = await client.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" }));
            if ((perms.CreateVolumePermissions ?? []).some((p) => p.UserId === TARGET)) found.push(snapshotId);
        }
        return found;
    }

    /** A copy into the target whose run stops before it is ready (the emulator holds copies pending). */
    async function stoppedCopy(name: string, props: Record<string, unknown>): Promise<PartialCreateError> {
        await emulator.configure({ timing: { copyPending: 4 } });
        let partial: PartialCreateError | undefined;
        try {
            await made("ImageCopy", name, { ...props, roleArn: ROLE, shareSource: true, imageTimeoutMinutes: 0.02 });
        } catch (err) {
            partial = err as PartialCreateError;
        } finally {
            await emulator.configure({ timing: { copyPending: null } });
        }
        assert.ok(partial instanceof PartialCreateError, String(partial));
        return partial;
    }

    /** The next `pulumi up` of a stopped copy: another process, which knows the share from state only. */
    async function resumed(partial: PartialCreateError) {
        forgetShares();
        const news = { ...partial.properties, imageTimeoutMinutes: 1 };
        const updated = await providers.ImageCopy.update!(partial.id, { ...partial.properties }, news as never);
        assert.equal(updated.outs?.temporaryShare, undefined, "no share left in state");
        return { ...news, ...updated.outs };
    }

    it("the copy is made in the role's account from the shared source; the share is withdrawn; delete removes it there", async () => {
        const baseSource = await inventory(emulator, [REGION], ACCOUNT_ID, ALL_KINDS);
        const baseTarget = await inventory(emulator, [REGION], TARGET, ALL_KINDS);
        const instanceId = await emulator.launchInstance(REGION);
        const source = await made("InstanceImage", "src", { instanceId, afterImage: "terminated" });
        const sourceSnapshots = source.result.outs.snapshotIds as string[];

        await emulator.resetCalls();
        const copy = await made("ImageCopy", "into-b", { sourceImageId: source.result.id, sourceRegion: REGION, name: source.result.outs.name, roleArn: ROLE, shareSource: true });
        assert.equal(copy.result.outs.ownerId, TARGET, "the copy is the target account's");
        const seenByTarget = await emulator.ec2(REGION, TARGET).send(new DescribeImagesCommand({ ImageIds: [copy.result.id] }));
        assert.equal(seenByTarget.Images?.[0]?.OwnerId, TARGET);
        assert.equal(copy.result.outs.temporaryShare, undefined, "no share is left in state");
        assert.deepEqual(await sharedWithTarget(source.result.id, sourceSnapshots), [], "the source's share with the target is withdrawn");
        const calls = (await emulator.calls()).calls.map((c) => c.action);
        assert.ok(calls.includes("ModifySnapshotAttribute") && calls.includes("ModifyImageAttribute"), `the source was shared for the copy: ${calls.join(",")}`);

        await providers.ImageCopy.delete!(copy.result.id, { ...copy.inputs, ...copy.result.outs });
        await providers.InstanceImage.delete!(source.result.id, { ...source.inputs, ...source.result.outs });
        const leaked = leakCount(await leakedSince(emulator, baseSource, [REGION], ACCOUNT_ID)) + leakCount(await leakedSince(emulator, baseTarget, [REGION], TARGET));
        recordLeakAudit("cross-account copy (both accounts)", leaked);
        assert.equal(leaked, 0);
    });

    it("a share the source's own distribution grants is neither added nor withdrawn", async () => {
        const instanceId = await emulator.launchInstance(REGION);
        const source = await made("InstanceImage", "src-shared", { instanceId, afterImage: "terminated", launchAccounts: [TARGET], shareSnapshots: true });
        const sourceSnapshots = source.result.outs.snapshotIds as string[];
        const copy = await made("ImageCopy", "into-b-shared", { sourceImageId: source.result.id, sourceRegion: REGION, name: source.result.outs.name, roleArn: ROLE, shareSource: true });
        assert.equal(copy.result.outs.ownerId, TARGET);
        assert.deepEqual(await sharedWithTarget(source.result.id, sourceSnapshots), [source.result.id, ...sourceSnapshots], "the distribution's share stays");
        await providers.ImageCopy.delete!(copy.result.id, { ...copy.inputs, ...copy.result.outs });
        await providers.InstanceImage.delete!(source.result.id, { ...source.inputs, ...source.result.outs });
    });

    it("a copy not ready when the run stops keeps the share in state; the next run (another process) withdraws it once the copy is ready", async () => {
        const instanceId = await emulator.launchInstance(REGION);
        const source = await made("InstanceImage", "src-slow", { instanceId, afterImage: "terminated" });
        const sourceSnapshots = source.result.outs.snapshotIds as string[];
        const partial = await stoppedCopy("into-b-slow", { sourceImageId: source.result.id, sourceRegion: REGION, name: source.result.outs.name });
        const recorded = partial.properties.temporaryShare as { account: string; imageId: string; launch: boolean; snapshotIds: string[] } | undefined;
        assert.deepEqual(recorded && { account: recorded.account, imageId: recorded.imageId, launch: recorded.launch, snapshotIds: recorded.snapshotIds }, { account: TARGET, imageId: source.result.id, launch: true, snapshotIds: sourceSnapshots }, "state records the share");
        assert.equal((await sharedWithTarget(source.result.id, sourceSnapshots)).length, 1 + sourceSnapshots.length, "still shared while the copy is pending");

        const finished = await resumed(partial);
        assert.deepEqual(await sharedWithTarget(source.result.id, sourceSnapshots), [], "the share is withdrawn");
        await providers.ImageCopy.delete!(partial.id, finished);
        await providers.InstanceImage.delete!(source.result.id, { ...source.inputs, ...source.result.outs });
    });

    it("a target account that owns the source: refused at check, and by create before any change when check could not tell", async () => {
        const instanceId = await emulator.launchInstance(REGION);
        const source = await made("InstanceImage", "src-same", { instanceId, afterImage: "terminated" });
        const props = { resourceUrn: URN("into-self", "ImageCopy"), region: REGION, sourceImageId: source.result.id, sourceRegion: REGION, name: `${source.result.outs.name}-x`, roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/self`, shareSource: true };
        const checked = await providers.ImageCopy.check!({}, props);
        assert.deepEqual((checked.failures ?? []).map((f) => f.property), ["accountId"]);
        await emulator.resetCalls();
        // As create sees it when check could not ask STS (skipped, or too slow): refused before any change.
        const err = await providers.ImageCopy.create({ ...checked.inputs, __provider: "x" }).then(() => undefined, (e: Error) => e);
        assert.ok(err instanceof GoldenAmiError && err.code === "SameAccount", String(err));
        assert.match(err.message, new RegExp(`accountId: the copy is to be made in account ${ACCOUNT_ID}`));
        const mutations = (await emulator.calls()).calls.filter((c) => /^(Modify|Copy|Create)/.test(c.action));
        assert.deepEqual(mutations.map((c) => c.action), []);
        await providers.InstanceImage.delete!(source.result.id, { ...source.inputs, ...source.result.outs });
    });

    it("check refuses an accountId that is not 12 digits, a roleArn that is no IAM role ARN or of another account, sourceProvider without shareSource, and the source's own account; a role of another account replaces the copy", async () => {
        const check = (props: Record<string, unknown>) =>
            providers.ImageCopy.check!({}, { resourceUrn: URN("bad", "ImageCopy"), region: REGION, sourceImageId: "ami-12345678", name: "bad-copy", ...props });
        const fields = async (props: Record<string, unknown>) => ((await check(props)).failures ?? []).map((f) => f.property);
        assert.deepEqual(await fields({ accountId: "1234" }), ["accountId"]);
        assert.deepEqual(await fields({ roleArn: "arn:aws:iam::666677778888:user/bob" }), ["roleArn"]);
        assert.deepEqual(await fields({ roleArn: ROLE, accountId: "111122223333" }), ["roleArn"]);
        assert.deepEqual(await fields({ sourceAwsProvider: { region: REGION } }), ["sourceProvider"]);
        // The source is shared from the stack's account (STS says which): a copy "into" it is refused at preview.
        assert.deepEqual(await fields({ roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/self`, shareSource: true }), ["accountId"]);
        assert.deepEqual(await fields({ roleArn: ROLE, shareSource: true }), []);

        // A role of another account makes another copy; another role of the same account only acts differently.
        const inputs = async (roleArn: string) => (await check({ roleArn, shareSource: true })).inputs as Record<string, unknown>;
        const now = await inputs(ROLE);
        assert.equal(now.accountId, TARGET, "the role's account is the copy's");
        const elsewhere = await providers.ImageCopy.diff!("ami-12345678", now, await inputs("arn:aws:iam::888899990000:role/golden-ami-target"));
        assert.ok(elsewhere.replaces?.includes("accountId"), JSON.stringify(elsewhere));
        const renamed = await providers.ImageCopy.diff!("ami-12345678", now, await inputs(`arn:aws:iam::${TARGET}:role/renamed`));
        assert.deepEqual([renamed.changes, renamed.replaces], [true, []]);
    });

    describe("an encrypted source", function () {
        let kms: KMSClient;
        before(() => {
            kms = new KMSClient({ region: REGION }); // the stack's account (the emulator's environment)
        });
        after(() => kms?.destroy());

        /** The source account's image encrypted with `kmsKeyId` (a copy of an unencrypted image; none: aws/ebs). */
        async function encryptedSource(name: string, kmsKeyId?: string) {
            const instanceId = await emulator.launchInstance(REGION);
            const plain = await made("InstanceImage", `${name}-plain`, { instanceId, afterImage: "terminated" });
            const encrypted = await made("ImageCopy", name, { sourceImageId: plain.result.id, sourceRegion: REGION, name: `${plain.result.outs.name}-enc`, encrypted: true, ...(kmsKeyId ? { kmsKeyId } : {}) });
            const remove = async () => {
                await providers.ImageCopy.delete!(encrypted.result.id, { ...encrypted.inputs, ...encrypted.result.outs });
                await providers.InstanceImage.delete!(plain.result.id, { ...plain.inputs, ...plain.result.outs });
            };
            return { image: encrypted, remove };
        }

        const grantsFor = async (keyId: string) =>
            ((await kms.send(new ListGrantsCommand({ KeyId: keyId }))).Grants ?? []).filter((g) => g.GranteePrincipal === `arn:aws:iam::${TARGET}:root`);

        it("a customer managed key of the source's account: while the copy is made a grant on it lets the target copy; none is left once the copy is ready", async () => {
            const keyArn = (await kms.send(new CreateKeyCommand({ Description: "golden-ami test: source key" }))).KeyMetadata!.Arn!;
            const source = await encryptedSource("src-cmk", keyArn);
            const partial = await stoppedCopy("into-b-cmk", { sourceImageId: source.image.result.id, sourceRegion: REGION, name: `${source.image.result.outs.name}-b` });
            const during = await grantsFor(keyArn);
            assert.equal(during.length, 1, "one grant for the target account while the copy is pending");
            assert.deepEqual([...(during[0].Operations ?? [])].sort(), ["CreateGrant", "Decrypt", "DescribeKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom"]);
            const recorded = (partial.properties.temporaryShare as { grants?: { keyId: string; grantId: string }[] }).grants;
            assert.deepEqual(recorded, [{ keyId: keyArn, grantId: during[0].GrantId }], "state records the grant");

            const finished = await resumed(partial); // knows the grant from state only
            assert.deepEqual(await grantsFor(keyArn), [], "the grant is revoked once the copy is ready");
            await providers.ImageCopy.delete!(partial.id, finished);
            await source.remove();
        });

        it("the AWS managed key aws/ebs: refused naming sourceImageId and what to do, before anything is shared", async () => {
            const source = await encryptedSource("src-ebs");
            const sourceSnapshots = source.image.result.outs.snapshotIds as string[];
            await emulator.resetCalls();
            const err = await made("ImageCopy", "into-b-ebs", { sourceImageId: source.image.result.id, sourceRegion: REGION, name: `${source.image.result.outs.name}-b`, roleArn: ROLE, shareSource: true }).then(
                () => undefined,
                (e: Error) => e,
            );
            assert.ok(err instanceof GoldenAmiError && err.code === "AwsManagedKey", String(err));
            assert.match(err.message, /sourceImageId: .*AWS managed key .*aws\/ebs.*What to do: encrypt the source with a customer managed key/);
            const mutations = (await emulator.calls()).calls.filter((c) => /^(Modify|Copy|Create)/.test(c.action));
            assert.deepEqual(mutations.map((c) => c.action), [], "nothing was shared or copied");
            assert.deepEqual(await sharedWithTarget(source.image.result.id, sourceSnapshots), []);
            assert.deepEqual(await grantsFor("alias/aws/ebs"), []);
            await source.remove();
        });
    });
});
