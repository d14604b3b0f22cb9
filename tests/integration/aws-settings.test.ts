// golden-ami acts where the AWS provider of the same stack acts: the provider (in this
// process) is configured with `aws:*` settings as `configure` hands them over, and runs
// against the emulator, whose STS credentials act in the role's account (moto's multi-account
// support). Images land in the account the settings select, not the environment's; a
// forbidden account is refused before any change; errors name the account and region.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { awsSettingsFromConfig } from "../../providers/core/aws-settings";
import { GoldenAmiError } from "../../providers/core/errors";
import { setConfiguredRegion } from "../../providers/core/region";
import { configureStack, resetClients } from "../../providers/ec2/client";
import { resetIdentities } from "../../providers/ec2/identity";
import { providers } from "../../providers/runtime";
import { ACCOUNT_ID, inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator } from "../support/emulator";
import { recordLeakAudit } from "../support/reliability-summary";
import { checkedCreate } from "../support/provider-calls";
import type { BuilderState } from "../../providers/lifecycle/builder";

const REGION = "us-east-1";
const BUILD_ACCOUNT = "222233334444";
const PROFILE_ACCOUNT = "333344445555";
const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:InstanceImage::settings";
const MUTATIONS = ["CreateImage", "CopyImage", "StopInstances", "StartInstances", "CreateTags", "ModifyImageAttribute", "DeregisterImage", "DeleteSnapshot"];

describe("integration: the AWS provider's settings (emulator, two accounts)", function () {
    let emulator: Emulator;
    let savedEnv: NodeJS.ProcessEnv;
    let dir: string;

    before(async function () {
        emulator = await Emulator.start();
        savedEnv = { ...process.env };
        Object.assign(process.env, emulator.env(REGION));
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ga-settings-"));
    });

    after(async function () {
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        configure({});
        fs.rmSync(dir, { recursive: true, force: true });
        await emulator?.stop();
    });

    /** What `configure` does with the stack configuration `config` (values as the engine hands them: text). */
    function configure(config: Record<string, string>): void {
        const settings = awsSettingsFromConfig((key) => config[key]);
        setConfiguredRegion(settings.region);
        configureStack(settings);
        resetClients();
        resetIdentities();
    }

    afterEach(() => configure({}));

    async function createImage(instanceId: string, extra: Record<string, unknown> = {}) {
        const provider = providers.InstanceImage;
        const checked = await provider.check!({}, { resourceUrn: URN, instanceId, region: REGION, ...extra });
        assert.deepEqual(checked.failures ?? [], []);
        const inputs = { ...checked.inputs, __provider: "x" };
        return { inputs, result: await provider.create(inputs) };
    }

    async function ownerOf(imageId: string, accountId: string): Promise<string | undefined> {
        const out = await emulator.ec2(REGION, accountId).send(new DescribeImagesCommand({ ImageIds: [imageId] })).catch(() => undefined);
        return out?.Images?.[0]?.OwnerId;
    }

    it("aws:assumeRoles: the image is made in the role's account, with the role's credentials, and deleted there", async () => {
        const baseline = await inventory(emulator, [REGION], BUILD_ACCOUNT);
        const instanceId = await emulator.launchInstance(REGION, { accountId: BUILD_ACCOUNT });
        configure({ "aws:assumeRoles": JSON.stringify([{ roleArn: `arn:aws:iam::${BUILD_ACCOUNT}:role/image-builder`, sessionName: "ga-test", duration: "1h" }]) });
        await emulator.resetCalls();
        const { inputs, result } = await createImage(instanceId);
        assert.equal(result.outs.ownerId, BUILD_ACCOUNT, "the image's owner");
        assert.equal(await ownerOf(result.id, BUILD_ACCOUNT), BUILD_ACCOUNT, "the image is in the role's account");
        assert.equal(await ownerOf(result.id, ACCOUNT_ID), undefined, "and not in the environment's account");
        const keys = new Set((await emulator.calls()).calls.filter((c) => c.action === "CreateImage").map((c) => c.accessKeyId));
        assert.equal(keys.size, 1);
        assert.ok(!keys.has(emulator.env(REGION).AWS_ACCESS_KEY_ID), "CreateImage was signed with the assumed role's key, not the environment's");

        await providers.InstanceImage.delete!(result.id, { ...inputs, ...result.outs });
        const leaked = leakCount(await leakedSince(emulator, baseline, [REGION], BUILD_ACCOUNT));
        recordLeakAudit("assumeRoles", leaked);
        assert.equal(leaked, 0);
    });

    it("an explicit provider's recorded settings (awsProvider input): create and delete act in its role's account, whatever the stack says", async () => {
        const instanceId = await emulator.launchInstance(REGION, { accountId: BUILD_ACCOUNT });
        configure({ "aws:forbiddenAccountIds": JSON.stringify([BUILD_ACCOUNT]), "aws:defaultTags": '{"tags":{"from":"stack"}}' });
        const awsProvider = { assumeRoles: [{ roleArn: `arn:aws:iam::${BUILD_ACCOUNT}:role/image-builder`, sessionName: "explicit" }], defaultTags: { from: "provider" } };
        const { inputs, result } = await createImage(instanceId, { awsProvider });
        assert.equal(await ownerOf(result.id, BUILD_ACCOUNT), BUILD_ACCOUNT);
        assert.deepEqual(result.outs.tags, { from: "provider" }, "the explicit provider's default tags, not the stack's");
        assert.deepEqual(result.outs.awsProvider, awsProvider, "state records the settings delete needs");
        // A later process (destroy) acts from state alone.
        configure({});
        await providers.InstanceImage.delete!(result.id, { ...inputs, ...result.outs });
        assert.equal(await ownerOf(result.id, BUILD_ACCOUNT), undefined, "deleted in the role's account");
    });

    it("aws:profile of a shared config file wins over the environment's credentials (its role_arn/source_profile included)", async () => {
        const file = path.join(dir, "config");
        fs.writeFileSync(file, [
            "[profile base]", "aws_access_key_id = profilebase", "aws_secret_access_key = profilebase", "",
            "[profile tooling]", `role_arn = arn:aws:iam::${PROFILE_ACCOUNT}:role/tooling`, "source_profile = base", "",
        ].join("\n"));
        const instanceId = await emulator.launchInstance(REGION, { accountId: PROFILE_ACCOUNT });
        configure({ "aws:profile": "tooling", "aws:sharedConfigFiles": JSON.stringify([file]), "aws:sharedCredentialsFiles": JSON.stringify([path.join(dir, "none")]) });
        const { inputs, result } = await createImage(instanceId);
        assert.equal(result.outs.ownerId, PROFILE_ACCOUNT);
        assert.equal(await ownerOf(result.id, PROFILE_ACCOUNT), PROFILE_ACCOUNT);
        await providers.InstanceImage.delete!(result.id, { ...inputs, ...result.outs });
        assert.equal(await ownerOf(result.id, PROFILE_ACCOUNT), undefined, "deleted in the profile's account");
    });

    it("aws:endpoints: the endpoints come from the configuration when the environment has none", async () => {
        const instanceId = await emulator.launchInstance(REGION);
        const endpoint = process.env.AWS_ENDPOINT_URL!;
        delete process.env.AWS_ENDPOINT_URL;
        try {
            configure({ "aws:endpoints": JSON.stringify([{ ec2: endpoint }, { sts: endpoint }]), "aws:allowedAccountIds": JSON.stringify([ACCOUNT_ID]) });
            const { inputs, result } = await createImage(instanceId);
            assert.equal(result.outs.ownerId, ACCOUNT_ID);
            await providers.InstanceImage.delete!(result.id, { ...inputs, ...result.outs });
        } finally {
            process.env.AWS_ENDPOINT_URL = endpoint;
        }
    });

    for (const [what, config] of [
        ["aws:allowedAccountIds without the account", { "aws:allowedAccountIds": JSON.stringify([BUILD_ACCOUNT]) }],
        ["aws:forbiddenAccountIds with the account", { "aws:forbiddenAccountIds": JSON.stringify([BUILD_ACCOUNT, ACCOUNT_ID]) }],
    ] as const) {
        it(`${what}: refused before any change, naming the account acted as and the listed ones`, async () => {
            const instanceId = await emulator.launchInstance(REGION);
            configure(config);
            await emulator.resetCalls();
            const err = await createImage(instanceId).then(() => assert.fail("create succeeded"), (e: Error) => e);
            assert.ok(err instanceof GoldenAmiError, err.stack);
            assert.equal(err.code, "ForbiddenAccount");
            assert.ok(err.message.includes(ACCOUNT_ID) && err.message.includes(BUILD_ACCOUNT), err.message);
            assert.match(err.message, /nothing was changed/);
            assert.match(err.message, /What to do:/);
            const changes = (await emulator.calls()).calls.filter((c) => MUTATIONS.includes(c.action));
            assert.deepEqual(changes, [], "no change reached EC2");
        });
    }

    it("an instance of another account: the not-found error names the account and region golden-ami acted as", async () => {
        const instanceId = await emulator.launchInstance(REGION, { accountId: BUILD_ACCOUNT });
        const err = await createImage(instanceId).then(() => assert.fail("create succeeded"), (e: Error) => e);
        assert.ok(err instanceof GoldenAmiError, err.stack);
        assert.ok(err.message.includes(instanceId), err.message);
        assert.ok(err.message.includes(`golden-ami acted as account ${ACCOUNT_ID}`) && err.message.includes(`in ${REGION}`), err.message);
    });

    it("a builder launched in another account: its state records the account, and the image's not-found names it beside the account acted as", async () => {
        const amazon = await emulator.ec2(REGION, BUILD_ACCOUNT).send(new DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }] }));
        configure({ "aws:assumeRoles": JSON.stringify([{ roleArn: `arn:aws:iam::${BUILD_ACCOUNT}:role/image-builder` }]) });
        const builder = await checkedCreate<BuilderState>(providers.Builder, "Builder", "other-account", { region: REGION, baseImageId: amazon.Images![0].ImageId!, waitFor: "none" });
        assert.equal(builder.outs.accountId, BUILD_ACCOUNT, "the builder's state says which account launched it");
        configure({});
        const err = await createImage(builder.id, { instanceAccountId: builder.outs.accountId }).then(() => assert.fail("create succeeded"), (e: Error) => e);
        assert.ok(err instanceof GoldenAmiError && err.code === "InstanceNotFound", String(err));
        assert.ok(err.message.includes(`the builder was created by account ${BUILD_ACCOUNT}`), err.message);
        assert.ok(err.message.includes(`golden-ami acted as account ${ACCOUNT_ID}`) && err.message.includes(`in ${REGION}`), err.message);
        configure({ "aws:assumeRoles": JSON.stringify([{ roleArn: `arn:aws:iam::${BUILD_ACCOUNT}:role/image-builder` }]) });
        await providers.Builder.delete!(builder.id, { ...builder.inputs, ...builder.outs });
    });

    it("aws:skipCredentialsValidation: errors do not ask STS who the credentials are", async () => {
        const instanceId = await emulator.launchInstance(REGION, { accountId: BUILD_ACCOUNT });
        configure({ "aws:skipCredentialsValidation": "true" });
        const err = await createImage(instanceId).then(() => assert.fail("create succeeded"), (e: Error) => e);
        assert.ok(err.message.includes(`golden-ami acted as unknown credentials (account not looked up) in ${REGION}`), err.message);
    });
});
