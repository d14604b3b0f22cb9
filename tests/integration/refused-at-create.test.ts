// Inputs that pass `check` (the input alone cannot show the problem) but that EC2's state
// makes impossible: InstanceImage's create must refuse them with an error that names the
// thing in the way and what to do, and must create nothing. Runs the provider in this
// process against the EC2 emulator, with the inputs exactly as check produced them (plus
// the `__provider` key the dynamic-provider host adds).
import * as assert from "node:assert/strict";
import { providers } from "../../providers/runtime";
import { CreateImageCommand, DescribeInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { resetClients } from "../../providers/ec2/client";
import { GoldenAmiError } from "../../providers/core/errors";
import { setConfiguredRegion } from "../../providers/core/region";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { AccountInventory, inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator } from "../support/emulator";
import { recordBadInput, recordLeakAudit } from "../support/reliability-summary";

const instanceImageProvider = providers.InstanceImage;
const imageCopyProvider = providers.ImageCopy;

const REGION = "us-east-1";
const OTHER_REGION = "us-west-2";
const REGIONS = [REGION, OTHER_REGION];
const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:InstanceImage::refused";
const COPY_URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:ImageCopy::refused-copy";

describe("integration: inputs refused at create (emulator)", function () {
    let emulator: Emulator;
    let savedEnv: NodeJS.ProcessEnv;
    let before_: AccountInventory;

    before(async function () {
        emulator = await Emulator.start();
        savedEnv = { ...process.env };
        Object.assign(process.env, emulator.env(REGION));
        resetClients();
        setConfiguredRegion(undefined);
    });

    after(async function () {
        resetClients();
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        await emulator?.stop();
    });

    afterEach(function () {
        const test = this.currentTest!;
        if (test.state === "passed" || test.state === "failed") recordBadInput(`create: ${test.title}`, test.state === "passed");
    });

    /** check, then create with what check produced; returns the error create threw (it must throw). */
    async function refusedCreate(news: Record<string, unknown>, provider = instanceImageProvider, urn = URN): Promise<Error> {
        const checked = await provider.check!({}, { resourceUrn: urn, ...news });
        assert.deepEqual(checked.failures ?? [], [], "check accepts these inputs: only EC2's state can refuse them");
        before_ = await inventory(emulator, REGIONS);
        await emulator.resetCalls();
        const err = await provider.create({ ...checked.inputs, __provider: "x" }).then(
            (result) => assert.fail(`create succeeded: ${JSON.stringify(result.id)}`),
            (e: unknown) => e as Error,
        );
        assert.ok(err instanceof Error, `threw a non-error: ${String(err)}`);
        assert.ok(!(err instanceof PartialCreateError), `reported as a partial create (would be recorded in state): ${err.message}`);
        assert.equal((err as { id?: unknown }).id, undefined, "the error carries no resource ID");
        return err;
    }

    /** Leak audit over both regions, plus: no image-making call reached EC2. */
    async function assertNothingCreated(): Promise<void> {
        const leaks = await leakedSince(emulator, before_, REGIONS);
        recordLeakAudit("refused at create", leakCount(leaks));
        assert.equal(leakCount(leaks), 0, `created: ${JSON.stringify(leaks)}`);
        const made = (await emulator.calls()).calls.filter((c) => ["CreateImage", "CopyImage", "CreateSnapshot"].includes(c.action) && c.status === 200);
        assert.deepEqual(made, [], "no image-making call succeeded");
    }

    async function instanceState(region: string, instanceId: string): Promise<string | undefined> {
        const out = await emulator.ec2(region).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
    }

    it("an AMI name that a foreign image already has: ForeignImage naming the image and how to adopt it; instance left running", async () => {
        const ec2 = emulator.ec2(REGION);
        const name = `team-golden-${Date.now().toString(36)}`;
        const otherInstance = await emulator.launchInstance(REGION);
        const foreign = (await ec2.send(new CreateImageCommand({ InstanceId: otherInstance, Name: name }))).ImageId!;
        const instanceId = await emulator.launchInstance(REGION);

        const err = await refusedCreate({ instanceId, region: REGION, name });
        assert.ok(err instanceof GoldenAmiError, err.stack);
        assert.equal(err.code, "ForeignImage");
        assert.ok(err.message.includes(foreign), `names the foreign image ${foreign}: ${err.message}`);
        assert.ok(err.message.includes(`adoptImageId: "${foreign}"`), `says how to adopt it: ${err.message}`);
        assert.ok(err.message.includes(name) && err.message.includes(REGION), err.message);
        await assertNothingCreated();
        // Refused before anything was done to the instance.
        assert.equal(await instanceState(REGION, instanceId), "running", "the instance was not stopped for nothing");
        const actions = (await emulator.calls()).calls.map((c) => c.action);
        assert.ok(!actions.includes("StopInstances"), `calls: ${actions.join(", ")}`);
    });

    it("an AMI name taken by an image golden-ami made from another instance: ForeignImage too (never adopted by mistake)", async () => {
        const ec2 = emulator.ec2(REGION);
        const name = `shared-name-${Date.now().toString(36)}`;
        const otherInstance = await emulator.launchInstance(REGION);
        const markers = [
            { Key: "golden-ami:managed-by", Value: "golden-ami" },
            { Key: "golden-ami:source-instance", Value: otherInstance },
        ];
        const other = (await ec2.send(new CreateImageCommand({
            InstanceId: otherInstance,
            Name: name,
            TagSpecifications: [{ ResourceType: "image", Tags: markers }],
        }))).ImageId!;
        const instanceId = await emulator.launchInstance(REGION);

        const err = await refusedCreate({ instanceId, region: REGION, name });
        assert.ok(err instanceof GoldenAmiError, err.stack);
        assert.equal(err.code, "ForeignImage");
        assert.ok(err.message.includes(other) && err.message.includes(`adoptImageId: "${other}"`), err.message);
        await assertNothingCreated();
    });

    it("a terminated instance: IncorrectInstanceState saying it can no longer be imaged", async () => {
        const instanceId = await emulator.launchInstance(REGION);
        await emulator.ec2(REGION).send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
        assert.equal(await instanceState(REGION, instanceId), "terminated");

        const err = await refusedCreate({ instanceId, region: REGION });
        assert.ok(err instanceof GoldenAmiError, err.stack);
        assert.equal(err.code, "IncorrectInstanceState");
        assert.match(err.message, new RegExp(`instance ${instanceId} in ${REGION} is terminated and can no longer be imaged`));
        assert.match(err.message, /What to do:/);
        await assertNothingCreated();
    });

    it("an instance that lives in another region: InstanceNotFound naming the region looked in", async () => {
        const instanceId = await emulator.launchInstance(OTHER_REGION);

        const err = await refusedCreate({ instanceId, region: REGION });
        assert.ok(err instanceof GoldenAmiError, err.stack);
        assert.equal(err.code, "InstanceNotFound");
        assert.ok(err.message.includes(`instance ${instanceId} does not exist in ${REGION}`), err.message);
        assert.match(err.message, /its own region/);
        await assertNothingCreated();
        assert.equal(await instanceState(OTHER_REGION, instanceId), "running", "the instance in the other region was not touched");
    });

    it("adoptImageId of an image that does not exist (here: lives in another region): names the ID and the region", async () => {
        const instanceId = await emulator.launchInstance(OTHER_REGION);
        const elsewhere = (await emulator.ec2(OTHER_REGION).send(new CreateImageCommand({ InstanceId: instanceId, Name: `elsewhere-${Date.now()}` }))).ImageId!;
        const local = await emulator.launchInstance(REGION);

        const err = await refusedCreate({ instanceId: local, region: REGION, adoptImageId: elsewhere });
        assert.ok(err instanceof GoldenAmiError, err.stack);
        assert.ok(err.message.includes(elsewhere) && err.message.includes(REGION), err.message);
        await assertNothingCreated();
    });

    it("ImageCopy: a copy name that a foreign image has in the destination region: ForeignImage naming it", async () => {
        const source = await emulator.launchInstance(REGION);
        const sourceImageId = (await emulator.ec2(REGION).send(new CreateImageCommand({ InstanceId: source, Name: `copy-src-${Date.now()}` }))).ImageId!;
        const name = `taken-in-west-${Date.now().toString(36)}`;
        const westInstance = await emulator.launchInstance(OTHER_REGION);
        const foreign = (await emulator.ec2(OTHER_REGION).send(new CreateImageCommand({ InstanceId: westInstance, Name: name }))).ImageId!;

        const err = await refusedCreate({ sourceImageId, sourceRegion: REGION, region: OTHER_REGION, name }, imageCopyProvider, COPY_URN);
        assert.ok(err instanceof GoldenAmiError, err.stack);
        assert.equal(err.code, "ForeignImage");
        assert.ok(err.message.includes(foreign) && err.message.includes(OTHER_REGION), err.message);
        await assertNothingCreated();
    });

    it("ImageCopy: a source image that does not exist in sourceRegion: an error naming the image and the region", async () => {
        const westInstance = await emulator.launchInstance(OTHER_REGION);
        const elsewhere = (await emulator.ec2(OTHER_REGION).send(new CreateImageCommand({ InstanceId: westInstance, Name: `src-west-${Date.now()}` }))).ImageId!;

        const err = await refusedCreate({ sourceImageId: elsewhere, sourceRegion: REGION, region: OTHER_REGION }, imageCopyProvider, COPY_URN);
        assert.ok(err instanceof GoldenAmiError, err.stack);
        assert.ok(err.message.includes(elsewhere) && err.message.includes(REGION), err.message);
        console.log(`      ${err.message}`);
        await assertNothingCreated();
    });
});
