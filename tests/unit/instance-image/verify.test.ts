// InstanceImage's own steps around the image (providers/lifecycle/instance-image.ts), against the
// fake EC2 in virtual time: the verification gate (a passing image kept; a failing one deleted
// with its snapshots, the builder ended as declared, ImageRejectedError), the verify settings'
// checks, the lineage's source-image tag from the builder's AMI, and the terminated after-image.
import * as assert from "node:assert/strict";
import { LINEAGE_TAGS } from "../../../providers/core/lineage";
import { SUCCESS_MARKER } from "../../../providers/core/options";
import { awsError, countByAction, rejection, testProviders } from "../../support/fakes";
import { INSTANCE, inputsWith, NEW_IMAGE, offlineProvider, REGION, URN, world, World } from "./fixture";

async function check(news: Record<string, unknown>) {
    const result = await offlineProvider().check!({}, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, ...news });
    return result.failures ?? [];
}

describe("InstanceImage kind: verification, lineage source, terminated builder", function () {
    let w: World;
    beforeEach(() => { w = world(); });
    afterEach(() => w.restore());
    const testInstances = () => [...w.ec2.instances.values()].filter((i) => i.launchedWith);
    const newImage = () => w.ec2.images.get(NEW_IMAGE)!;

    describe("the verification gate", function () {
        it("a passing image is kept: a test instance of it was launched, judged and terminated, then the after-image step", async function () {
            const { id } = await w.provider.create!(inputsWith({ verify: {} }));
            assert.equal(id, NEW_IMAGE);
            const [test] = testInstances();
            assert.equal(test.launchedWith!.ImageId, NEW_IMAGE);
            assert.equal(test.states.at(-1), "terminated");
            assert.equal(newImage().deregistered, false);
            assert.equal(w.builder.states.at(-1), "stopped");
        });

        it("no verify, no test instance", async function () {
            await w.provider.create!(inputsWith());
            assert.equal(countByAction(w.calls).RunInstances, undefined);
        });

        for (const afterImage of ["terminated", "stopped"] as const) {
            it(`a failing image (afterImage ${afterImage}): deleted with its snapshots, ImageRejectedError; the builder terminated only when declared`, async function () {
                w.ec2.newInstance = { ...w.ec2.newInstance, statuses: [{ system: "ok", instance: "impaired" }] };
                const snapshots = () => newImage().snapshotIds.map((s) => w.ec2.snapshots.get(s)!);
                const err = await rejection(w.provider.create!(inputsWith({ verify: {}, afterImage })));
                assert.equal(err.name, "ImageRejectedError");
                assert.match(err.message, new RegExp(`^golden-ami: image ${NEW_IMAGE} failed its verification`));
                assert.ok(err.message.endsWith("\nThe image and its snapshots were deleted; nothing was copied or shared."), err.message);
                assert.equal(newImage().deregistered, true);
                assert.ok(snapshots().every((s) => s.deleted));
                assert.equal(testInstances()[0].states.at(-1), "terminated");
                const builderTerminated = w.calls.some((c) => c.action === "TerminateInstances" && c.input.InstanceIds[0] === INSTANCE);
                assert.equal(builderTerminated, afterImage === "terminated");
            });
        }

        it("a failing image with afterImage running: the builder is not started; the steps are said on the resource's row", async function () {
            w.ec2.newInstance = { ...w.ec2.newInstance, statuses: [{ system: "ok", instance: "impaired" }] };
            const said: string[] = [];
            const provider = testProviders(w.clock, (m) => said.push(m)).InstanceImage;
            await rejection(provider.create!(inputsWith({ verify: {}, afterImage: "running" })));
            assert.equal(countByAction(w.calls).StartInstances, undefined);
            const test = testInstances()[0].id;
            assert.ok(said.includes(`verifying image ${NEW_IMAGE} with test instance ${test}`), said.join("\n"));
            assert.ok(said.includes(`deleting image ${NEW_IMAGE} and its snapshots: it failed its verification`), said.join("\n"));
        });

        it("an error that is not a verdict on the image is not a rejection: the image is kept", async function () {
            w.ec2.fail("RunInstances", awsError("InsufficientInstanceCapacity", "none left"), 100);
            const err = await rejection(w.provider.create!(inputsWith({ verify: {} })));
            assert.notEqual(err.name, "ImageRejectedError");
            assert.match(err.message, /none left/);
            assert.equal(newImage().deregistered, false);
        });
    });

    describe("the verify settings' checks", function () {
        const cases: Array<[string, unknown, string, string | RegExp]> = [
            ["not an object", "yes", "verify", "verify must be an object { instanceType?, subnetId?, vpcSecurityGroupIds?, userData?, timeoutMinutes? }"],
            ["a list", [], "verify", "verify must be an object { instanceType?, subnetId?, vpcSecurityGroupIds?, userData?, timeoutMinutes? }"],
            ["an instance type not a string", { instanceType: 1 }, "verify.instanceType", "verify.instanceType must be a string, not number"],
            ["a subnet that is no ID", { subnetId: "s-1" }, "verify.subnetId", /not a valid subnet ID/],
            ["a security group that is no ID", { vpcSecurityGroupIds: ["sg-12345678", "x"] }, "verify.vpcSecurityGroupIds[1]", /not a valid security group ID/],
            ["a timeout of 0", { timeoutMinutes: 0 }, "verify.timeoutMinutes", "verify.timeoutMinutes must be a number of minutes greater than 0, not 0"],
            ["user data not a string", { userData: 5 }, "verify.userData", "verify.userData must be a string, not number"],
            ["a script that cannot say it passed", { userData: "curl -fs localhost" }, "verify.userData",
                `verify.userData: a test script must print ${SUCCESS_MARKER} and power the instance off when the test passes ` +
                `(e.g. \`curl -fs localhost && echo ${SUCCESS_MARKER}; shutdown -h now\`); without it golden-ami cannot tell a pass. Leave userData out to judge by the status checks alone.`],
        ];
        for (const [what, verify, property, reason] of cases) {
            it(what, async function () {
                const failures = await check({ verify });
                assert.deepEqual(failures.map((f) => f.property), [property], JSON.stringify(failures));
                if (typeof reason === "string") assert.equal(failures[0].reason, reason);
                else assert.match(failures[0].reason, reason);
            });
        }

        it("accepted: nothing, null, a script printing the marker, valid IDs", async function () {
            for (const verify of [undefined, null, {}, { userData: `echo ${SUCCESS_MARKER}; shutdown -h now`, subnetId: "subnet-12345678", vpcSecurityGroupIds: ["sg-12345678"], timeoutMinutes: 5, instanceType: "t3.small" }]) {
                assert.deepEqual(await check({ verify }), [], JSON.stringify(verify));
            }
        });
    });

    it("the builder's AMI is the image's and its snapshots' source-image tag", async function () {
        w.builder.imageId = "ami-0base0000000000001";
        await w.provider.create!(inputsWith());
        const source = `${REGION}/ami-0base0000000000001`;
        assert.equal(newImage().tags[LINEAGE_TAGS.source], source);
        for (const id of newImage().snapshotIds) assert.equal(w.ec2.snapshots.get(id)!.tags[LINEAGE_TAGS.source], source);
    });

    it("a builder described without its AMI: no source-image tag", async function () {
        await w.provider.create!(inputsWith());
        assert.equal(newImage().tags[LINEAGE_TAGS.source], undefined);
    });

    it("afterImage terminated: once the image is available the builder is terminated, and says so", async function () {
        const said: string[] = [];
        const provider = testProviders(w.clock, (m) => said.push(m)).InstanceImage;
        await provider.create!(inputsWith({ afterImage: "terminated" }));
        assert.equal(w.builder.states.at(-1), "terminated");
        assert.ok(said.includes(`image available; terminating builder ${INSTANCE}`), said.join("\n"));
    });
});
