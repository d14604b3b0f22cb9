// applyDistribution / readDistribution against the EC2 emulator over HTTP: the calls that the
// unit tests prove exact are also accepted by an EC2 API, and what is read back equals what
// was applied.
import * as assert from "node:assert/strict";
import {
    CreateImageCommand,
    DeregisterImageCommand,
    DescribeImageAttributeCommand,
    DescribeImagesCommand,
    DescribeSnapshotAttributeCommand,
    EC2Client,
    ModifySnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import { resetClients } from "../../providers/ec2/client";
import { applyDistribution, readDistribution } from "../../providers/ec2/distribution";
import { DistributionArgs, distributionDiff } from "../../providers/core/distribution";
import { Emulator } from "../support/emulator";

const REGION = "us-east-1";
const A = "111111111111";
const B = "222222222222";
const ORG = "arn:aws:organizations::123456789012:organization/o-abcde12345";
const OU = "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdef12";

describe("integration: image distribution (emulator)", function () {
    let emulator: Emulator;
    let ec2: EC2Client;
    let savedEnv: NodeJS.ProcessEnv;
    let imageId: string;
    let snapshotIds: string[];

    before(async function () {
        emulator = await Emulator.start();
        ec2 = emulator.ec2(REGION);
        savedEnv = { ...process.env };
        Object.assign(process.env, emulator.env(REGION));
        resetClients();
    });

    after(async function () {
        resetClients();
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        await emulator?.stop();
    });

    /** A fresh image (from a freshly launched instance) for each test: no test sees another's settings. */
    beforeEach(async function () {
        const instanceId = await emulator.launchInstance(REGION);
        const created = await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: `ga-distribution-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` }));
        imageId = created.ImageId!;
        const described = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
        snapshotIds = (described.Images?.[0]?.BlockDeviceMappings ?? [])
            .map((m) => m.Ebs?.SnapshotId)
            .filter((id): id is string => typeof id === "string");
        assert.ok(snapshotIds.length > 0, "the emulator's image should have EBS snapshots");
    });

    const launchPermissions = async () =>
        (await ec2.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" }))).LaunchPermissions ?? [];
    const image = async () => (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
    const actionsDuring = async (work: () => Promise<void>): Promise<string[]> => {
        await emulator.resetCalls();
        await work();
        return (await emulator.calls()).calls.map((c) => c.action);
    };

    it("shares with two accounts, then removing one leaves exactly the other, with one call", async function () {
        await applyDistribution(REGION, imageId, snapshotIds, {}, { launchAccounts: [A, B] });
        assert.deepEqual(
            (await launchPermissions()).map((p) => p.UserId).sort(),
            [A, B],
        );

        const actions = await actionsDuring(() =>
            applyDistribution(REGION, imageId, snapshotIds, { launchAccounts: [A, B] }, { launchAccounts: [A] }),
        );
        assert.deepEqual(actions, ["ModifyImageAttribute"]);
        assert.deepEqual(await launchPermissions(), [{ UserId: A }]);
    });

    it("shares with an organization and an OU, makes the image public, and takes it all back", async function () {
        const shared: DistributionArgs = { launchOrganizations: [ORG], launchOrganizationalUnits: [OU], public: true };
        await applyDistribution(REGION, imageId, snapshotIds, {}, shared);
        const perms = await launchPermissions();
        assert.deepEqual(perms.filter((p) => p.OrganizationArn).map((p) => p.OrganizationArn), [ORG]);
        assert.deepEqual(perms.filter((p) => p.OrganizationalUnitArn).map((p) => p.OrganizationalUnitArn), [OU]);
        assert.ok(perms.some((p) => p.Group === "all"), JSON.stringify(perms));
        assert.equal((await image()).Public, true);

        await applyDistribution(REGION, imageId, snapshotIds, shared, {});
        assert.deepEqual(await launchPermissions(), []);
        assert.equal((await image()).Public, false);
    });

    it("sets the deprecation time (EC2 rounds it to the minute), then clears it", async function () {
        const at = new Date(Date.now() + 86_400_000);
        at.setUTCSeconds(40, 0);
        const deprecateAt = at.toISOString().replace(/\.000Z$/, "Z");
        const rounded = new Date(Math.round(at.getTime() / 60_000) * 60_000).toISOString();

        await applyDistribution(REGION, imageId, snapshotIds, {}, { deprecateAt });
        assert.equal(Date.parse((await image()).DeprecationTime!), Date.parse(rounded));
        const read = await readDistribution(REGION, imageId, snapshotIds);
        assert.equal(read.deprecateAt, rounded);
        assert.deepEqual(distributionDiff({ deprecateAt }, read), [], "a refresh right after apply must diff clean");

        await applyDistribution(REGION, imageId, snapshotIds, { deprecateAt }, {});
        assert.equal((await image()).DeprecationTime, undefined);
        assert.deepEqual(await readDistribution(REGION, imageId, snapshotIds), {});
    });

    it("turns deregistration protection on (it blocks DeregisterImage), then off", async function () {
        await applyDistribution(REGION, imageId, snapshotIds, {}, { deregistrationProtection: true });
        assert.equal((await image()).DeregistrationProtection, "enabled-without-cooldown");
        await assert.rejects(ec2.send(new DeregisterImageCommand({ ImageId: imageId })), /deregistration protection/);
        assert.deepEqual(await readDistribution(REGION, imageId, snapshotIds), { deregistrationProtection: true });

        await applyDistribution(REGION, imageId, snapshotIds, { deregistrationProtection: true }, { deregistrationProtection: false });
        assert.equal((await image()).DeregistrationProtection, "disabled");
        assert.deepEqual(await readDistribution(REGION, imageId, snapshotIds), {});
    });

    it("reads back exactly what was applied", async function () {
        const applied: DistributionArgs = {
            launchAccounts: [B, A],
            launchOrganizations: [ORG],
            launchOrganizationalUnits: [OU],
            public: true,
            deprecateAt: new Date(Date.now() + 7 * 86_400_000).toISOString().replace(/:\d\d\.\d{3}Z$/, ":00Z"),
            deregistrationProtection: true,
        };
        await applyDistribution(REGION, imageId, snapshotIds, {}, applied);
        const read = await readDistribution(REGION, imageId, snapshotIds);
        assert.deepEqual(read, {
            launchAccounts: [A, B],
            launchOrganizations: [ORG],
            launchOrganizationalUnits: [OU],
            public: true,
            deprecateAt: new Date(applied.deprecateAt!).toISOString(),
            deregistrationProtection: true,
        });
        assert.deepEqual(distributionDiff(applied, read), []);
        // Applying the live state again changes nothing, and makes no call.
        const actions = await actionsDuring(() => applyDistribution(REGION, imageId, snapshotIds, read, applied));
        assert.deepEqual(actions, []);
        // Protection off again so the emulator's reset is not the only way to clean up.
        await applyDistribution(REGION, imageId, snapshotIds, applied, {});
        assert.deepEqual(await readDistribution(REGION, imageId, snapshotIds), {});
    });

    it("grants and revokes create-volume permission on every snapshot (shareSnapshots)", async function () {
        const volumeUsers = async (snapshotId: string) =>
            ((await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" })))
                .CreateVolumePermissions ?? []).map((p) => p.UserId).sort();

        await applyDistribution(REGION, imageId, snapshotIds, {}, { launchAccounts: [A, B], shareSnapshots: true });
        for (const id of snapshotIds) assert.deepEqual(await volumeUsers(id), [A, B]);
        assert.deepEqual(await readDistribution(REGION, imageId, snapshotIds), { launchAccounts: [A, B], shareSnapshots: true });

        await applyDistribution(REGION, imageId, snapshotIds, { launchAccounts: [A, B], shareSnapshots: true }, { launchAccounts: [A], shareSnapshots: true });
        for (const id of snapshotIds) assert.deepEqual(await volumeUsers(id), [A]);

        await applyDistribution(REGION, imageId, snapshotIds, { launchAccounts: [A], shareSnapshots: true }, { launchAccounts: [A] });
        for (const id of snapshotIds) assert.deepEqual(await volumeUsers(id), []);
        assert.deepEqual(await readDistribution(REGION, imageId, snapshotIds), { launchAccounts: [A] });
    });
});
