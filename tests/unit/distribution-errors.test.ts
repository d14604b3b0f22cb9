// providers/ec2/distribution.ts: what each failing step says (the step, the image, the region),
// the calls readDistribution makes, and what it reads from EC2's answers.
import * as assert from "node:assert/strict";
import { applyDistribution, readDistribution } from "../../providers/ec2/distribution";
import { DistributionArgs } from "../../providers/core/distribution";
import { awsError, inputsOf, rejection, stubEc2 } from "../support/fakes";

const REGION = "us-east-1";
const IMAGE = "ami-0123456789abcdef0";
const SNAP = "snap-0000000000000000a";
const A = "111111111111";
const ORG = "arn:aws:organizations::123456789012:organization/o-abcde12345";
const OU = "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdef12";
const WHERE = `image ${IMAGE} in ${REGION}`;
const denied = () => awsError("UnauthorizedOperation", "You are not authorized to perform this operation.");

/** EC2 answering `{}` (or `answers[action]`), with `failing` refused. */
function stub(failing?: string, answers: Record<string, unknown> = {}, error: Error = denied()) {
    return stubEc2(REGION, (action) => {
        if (action === failing) throw error;
        return answers[action] ?? {};
    });
}

describe("distribution: what a failing step says", function () {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());

    const all: DistributionArgs = { launchAccounts: [A], launchOrganizations: [ORG], launchOrganizationalUnits: [OU], public: true, shareSnapshots: true, deprecateAt: "2027-06-30T12:00:00Z", deregistrationProtection: true };
    const steps: Array<[string, DistributionArgs, DistributionArgs, string]> = [
        ["EnableImageDeregistrationProtection", {}, { deregistrationProtection: true }, `turning on deregistration protection of ${WHERE}`],
        ["DisableImageDeregistrationProtection", { deregistrationProtection: true }, {}, `turning off deregistration protection of ${WHERE}`],
        ["EnableImageDeprecation", {}, { deprecateAt: "2027-06-30T12:00:00Z" }, `setting the deprecation time of ${WHERE} to 2027-06-30T12:00:00.000Z`],
        ["DisableImageDeprecation", { deprecateAt: "2027-06-30T12:00:00Z" }, {}, `clearing the deprecation time of ${WHERE}`],
        ["ModifyImageAttribute", { launchAccounts: [A], launchOrganizations: [ORG], launchOrganizationalUnits: [OU], public: true }, {}, `removing launch permissions (everyone, ${A}, ${ORG}, ${OU}) from ${WHERE}`],
        ["ModifyImageAttribute", {}, { launchAccounts: [A], launchOrganizations: [ORG], launchOrganizationalUnits: [OU] }, `granting launch permissions (${A}, ${ORG}, ${OU}) on ${WHERE}`],
        ["ModifyImageAttribute", {}, { public: true }, `making ${WHERE} public`],
        ["ModifySnapshotAttribute", { launchAccounts: [A], shareSnapshots: true }, { launchAccounts: [A] }, `removing create-volume permission (${A}) on snapshot ${SNAP} of ${WHERE}`],
        ["ModifySnapshotAttribute", {}, { launchAccounts: [A], shareSnapshots: true }, `granting create-volume permission (${A}) on snapshot ${SNAP} of ${WHERE}`],
    ];
    for (const [action, olds, news, doing] of steps) {
        it(`${action}: "${doing}"`, async function () {
            restore = stub(action).restore;
            const err = await rejection(applyDistribution(REGION, IMAGE, [SNAP], olds, news));
            assert.equal(err.message.split(" failed: ")[0], `golden-ami: ${doing}`);
            assert.match(err.message, / failed: UnauthorizedOperation: You are not authorized/);
        });
    }

    it("a public share blocked by block public access gets its own code; another OperationNotPermitted keeps the plain one", async function () {
        restore = stub("ModifyImageAttribute", {}, awsError("OperationNotPermitted", "You can't publicly share this image because block public access for AMIs is enabled")).restore;
        let err = await rejection(applyDistribution(REGION, IMAGE, [SNAP], {}, { public: true }));
        assert.equal((err as { code?: string }).code, "OperationNotPermitted.ImageBlockPublicAccess");
        restore = stub("ModifyImageAttribute", {}, awsError("OperationNotPermitted", "something else")).restore;
        err = await rejection(applyDistribution(REGION, IMAGE, [SNAP], {}, { public: true }));
        assert.equal((err as { code?: string }).code, "OperationNotPermitted");
    });

    it("a deprecateAt that is no ISO time is refused before any call", async function () {
        const s = stub();
        restore = s.restore;
        const err = await rejection(applyDistribution(REGION, IMAGE, [SNAP], {}, { deprecateAt: "next tuesday" }));
        assert.equal(err.message, `golden-ami: deprecateAt "next tuesday" of ${WHERE} is not an ISO 8601 UTC time.`);
        assert.equal(s.calls.length, 0);
    });

    it("nothing changed, public or not: no call at all", async function () {
        for (const same of [{}, all, { public: true }]) {
            const s = stub();
            restore = s.restore;
            await applyDistribution(REGION, IMAGE, [SNAP], same, same);
            assert.deepEqual(s.calls, [], JSON.stringify(same));
        }
    });

    it("everything at once makes the calls in order: removals, snapshots, launch, public last", async function () {
        const s = stub();
        restore = s.restore;
        await applyDistribution(REGION, IMAGE, [SNAP], {}, all);
        assert.deepEqual(inputsOf(s.calls, "EnableImageDeregistrationProtection"), [{ ImageId: IMAGE, WithCooldown: false }]);
        assert.deepEqual(inputsOf(s.calls, "ModifyImageAttribute").map((i) => i.LaunchPermission), [
            { Add: [{ UserId: A }, { OrganizationArn: ORG }, { OrganizationalUnitArn: OU }] },
            { Add: [{ Group: "all" }] },
        ]);
    });
});

describe("distribution: readDistribution's calls and errors", function () {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());
    const image = { Images: [{ ImageId: IMAGE }] };

    it("asks for the launch permissions, the image with deprecated ones, and each snapshot's create-volume permissions", async function () {
        const s = stub(undefined, { DescribeImages: image, DescribeImageAttribute: { LaunchPermissions: [{ UserId: A }] }, DescribeSnapshotAttribute: { CreateVolumePermissions: [{ UserId: A }] } });
        restore = s.restore;
        assert.deepEqual(await readDistribution(REGION, IMAGE, [SNAP]), { launchAccounts: [A], shareSnapshots: true });
        assert.deepEqual(inputsOf(s.calls, "DescribeImageAttribute"), [{ ImageId: IMAGE, Attribute: "launchPermission" }]);
        assert.deepEqual(inputsOf(s.calls, "DescribeImages"), [{ ImageIds: [IMAGE], IncludeDeprecated: true }]);
        assert.deepEqual(inputsOf(s.calls, "DescribeSnapshotAttribute"), [{ SnapshotId: SNAP, Attribute: "createVolumePermission" }]);
    });

    it("accounts without snapshots: shareSnapshots is not read", async function () {
        const s = stub(undefined, { DescribeImages: image, DescribeImageAttribute: { LaunchPermissions: [{ UserId: A }] } });
        restore = s.restore;
        assert.deepEqual(await readDistribution(REGION, IMAGE, []), { launchAccounts: [A] });
        assert.equal(inputsOf(s.calls, "DescribeSnapshotAttribute").length, 0);
    });

    it("an image EC2 does not describe (or describes another one): InvalidAMIID.NotFound, saying what to do", async function () {
        for (const answer of [{ Images: [] }, { Images: [{ ImageId: "ami-0000000000000000f" }] }]) {
            restore = stub(undefined, { DescribeImages: answer }).restore;
            const err = await rejection(readDistribution(REGION, IMAGE, [SNAP]));
            assert.equal((err as { code?: string }).code, "InvalidAMIID.NotFound");
            assert.equal(err.message, `golden-ami: ${WHERE} does not exist (any more). What to do: check the ID and the region, or run \`pulumi refresh\`.`);
        }
    });

    const reads: Array<[string, string]> = [
        ["DescribeImageAttribute", `reading the launch permissions of ${WHERE}`],
        ["DescribeImages", `describing ${WHERE}`],
        ["DescribeSnapshotAttribute", `reading the create-volume permissions of snapshot ${SNAP} of ${WHERE}`],
    ];
    for (const [action, doing] of reads) {
        it(`${action}: "${doing}"`, async function () {
            restore = stub(action, { DescribeImages: image, DescribeImageAttribute: { LaunchPermissions: [{ UserId: A }] } }).restore;
            const err = await rejection(readDistribution(REGION, IMAGE, [SNAP]));
            assert.equal(err.message.split(" failed: ")[0], `golden-ami: ${doing}`);
        });
    }
});
