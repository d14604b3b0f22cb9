// Distribution into another account with the real engine: a GoldenImage is built in the stack's
// account (A) and copied into account B under B's role (copyToAccounts). The copy is B's; the
// source's temporary share with B is gone once `pulumi up` has finished; a consumer acting as
// B's role launches an instance from B's copy; `pulumi destroy` leaves nothing in either account
// (images, snapshots, instances) and no launch or create-volume permission or KMS grant (the
// image is encrypted with a customer managed key of A) behind; no credential the target role
// was issued reaches state.
import * as assert from "node:assert/strict";
import { DescribeImageAttributeCommand, DescribeImagesCommand, DescribeSnapshotAttributeCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { CreateKeyCommand, KMSClient, ListGrantsCommand } from "@aws-sdk/client-kms";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { ACCOUNT_ID, ALL_KINDS, inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator } from "../support/emulator";
import { PulumiStack } from "../support/pulumi";
import { recordLeakAudit, recordSecretsScan } from "../support/reliability-summary";
import { issuedNeedles, scanStack } from "../support/secrets-scan";

const REGION = "us-east-1";
const TARGET = "777788889999";
const TARGET_ROLE = `arn:aws:iam::${TARGET}:role/golden-ami-target`;
const CONSUMER_ROLE = `arn:aws:iam::${TARGET}:role/web-fleet`;

describe("e2e: a golden image copied into another account (copyToAccounts)", function () {
    let emulator: Emulator;

    before(async () => {
        emulator = await Emulator.start({ timing: { instancePending: 1, instanceStopping: 1, imagePending: 1, copyPending: 1, userDataSeconds: 1 } });
    });

    after(async () => {
        await emulator?.stop();
    });

    /** Who, besides the owner, may launch the image or create volumes from its snapshots (as account A sees it). */
    async function sharesOf(imageId: string, snapshotIds: string[]): Promise<string[]> {
        const client = emulator.ec2(REGION);
        const launch = await client.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" }));
        const shares = (launch.LaunchPermissions ?? []).map((p) => `${imageId}:${p.UserId ?? p.Group}`);
        for (const SnapshotId of snapshotIds) {
            const perms = await client.send(new DescribeSnapshotAttributeCommand({ SnapshotId, Attribute: "createVolumePermission" }));
            shares.push(...(perms.CreateVolumePermissions ?? []).map((p) => `${SnapshotId}:${p.UserId ?? p.Group}`));
        }
        return shares;
    }

    /** An EC2 client acting as `roleArn` (STS AssumeRole with the environment's keys), as a consumer in B would. */
    async function actingAs(roleArn: string): Promise<EC2Client> {
        const env = emulator.env(REGION);
        const base = { region: REGION, endpoint: emulator.endpoint, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } };
        const assumed = await new STSClient(base).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "consumer" }));
        const c = assumed.Credentials!;
        return new EC2Client({ ...base, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken } });
    }

    it("built in A, copied into B under B's role, launched by a consumer in B; destroy leaves nothing in either account and no share", async () => {
        const baseA = await inventory(emulator, [REGION], ACCOUNT_ID, ALL_KINDS);
        const baseB = await inventory(emulator, [REGION], TARGET, ALL_KINDS);
        const amazon = await emulator.ec2(REGION).send(new DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }] }));
        const kms = new KMSClient({ region: REGION, endpoint: emulator.endpoint, credentials: await emulator.ec2(REGION).config.credentials() });
        const keyArn = (await kms.send(new CreateKeyCommand({ Description: "golden-ami e2e: build account key" }))).KeyMetadata!.Arn!;
        const stack = await PulumiStack.create({
            program: "accounts",
            env: emulator.env(REGION),
            config: { "aws:region": REGION, baseImageId: amazon.Images![0].ImageId!, sourceKeyId: keyArn, targetAccount: TARGET, targetRole: TARGET_ROLE },
        });
        try {
            let t = Date.now();
            const up = await stack.up();
            const upSeconds = (Date.now() - t) / 1000;
            assert.equal(up.code, 0, up.stdout + up.stderr);
            const out = await stack.outputs() as { imageId: string; imageOwner: string; snapshotIds: string[]; accountImageIds: Record<string, Record<string, string>> };
            assert.equal(out.imageOwner, ACCOUNT_ID, "the image is built in the stack's account");
            const copyId = out.accountImageIds[TARGET]?.[REGION];
            assert.ok(copyId && copyId !== out.imageId, JSON.stringify(out.accountImageIds));
            const copy = (await emulator.ec2(REGION, TARGET).send(new DescribeImagesCommand({ ImageIds: [copyId] }))).Images![0];
            assert.equal(copy.OwnerId, TARGET, "the copy is account B's");
            assert.equal(copy.State, "available");
            assert.deepEqual(await sharesOf(out.imageId, out.snapshotIds), [], "the temporary share of the source with B is withdrawn");
            const grants = (await kms.send(new ListGrantsCommand({ KeyId: keyArn }))).Grants ?? [];
            assert.deepEqual(grants.map((g) => g.GranteePrincipal), [], "the KMS grant of the source's key to B is revoked");

            const consumer = await actingAs(CONSUMER_ROLE);
            const run = await consumer.send(new RunInstancesCommand({ ImageId: copyId, MinCount: 1, MaxCount: 1, InstanceType: "t3.micro" }));
            assert.equal(run.OwnerId, TARGET, "the consumer's instance runs in B");
            assert.equal(run.Instances?.[0]?.ImageId, copyId);
            await consumer.send(new TerminateInstancesCommand({ InstanceIds: [run.Instances![0].InstanceId!] }));

            // The target role's credentials (issued by the emulator's STS) never reach state: only its ARN does.
            const issued = await emulator.issuedCredentials();
            assert.ok(issued.length > 0, "the copy acted with credentials STS issued for B's role");
            const hits = await scanStack(stack, undefined, issuedNeedles(issued));
            recordSecretsScan("copyToAccounts stack", hits.length, hits);
            assert.deepEqual(hits, [], "credential or endpoint in state");

            t = Date.now();
            const down = await stack.destroy();
            const downSeconds = (Date.now() - t) / 1000;
            assert.equal(down.code, 0, down.stdout + down.stderr);
            console.log(`      up ${upSeconds.toFixed(1)} s, destroy ${downSeconds.toFixed(1)} s`);
            const leakedA = leakCount(await leakedSince(emulator, baseA, [REGION], ACCOUNT_ID));
            const leakedB = leakCount(await leakedSince(emulator, baseB, [REGION], TARGET));
            recordLeakAudit("copyToAccounts: build account", leakedA);
            recordLeakAudit("copyToAccounts: target account", leakedB);
            assert.equal(leakedA, 0, "nothing left in A");
            assert.equal(leakedB, 0, "nothing left in B");
        } finally {
            kms.destroy();
            await stack.remove();
        }
    });
});
