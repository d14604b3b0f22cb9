// providers/ec2/verification.ts: the verification gate, against the fake EC2 (RunInstances,
// status checks, console output, termination) in virtual time — the test instance as launched,
// a pass by status checks and by the test script's marker, each failure's message, an earlier
// run's test instance ended, and the test instance terminated whatever the outcome.
import * as assert from "node:assert/strict";
import { builderClientToken, MANAGED_BY_VALUE, MARKER_TAGS } from "../../providers/core/naming";
import { FAILURE_MARKER, SUCCESS_MARKER } from "../../providers/core/options";
import { VerificationFailedError, verifyImage } from "../../providers/ec2/verification";
import { FakeEc2 } from "../support/fake-ec2";
import { awsError, countByAction, FakeClock, rejection } from "../support/fakes";

const REGION = "eu-west-1";
const IMAGE = "ami-0a000000000000009";
const NAME = "web-golden";

describe("verification gate (providers/ec2/verification.ts)", function () {
    let ec2: FakeEc2;
    let clock: FakeClock;
    let restore: () => void;
    let said: string[];
    const waits = () => ({ clock, timeScale: 1, onProgress: (m: string) => { said.push(m); } });
    const testInstances = () => [...ec2.instances.values()].filter((i) => i.launchedWith);
    const terminated = (id: string) => ec2.instances.get(id)!.states.at(-1) === "terminated";

    beforeEach(() => {
        ec2 = new FakeEc2([REGION]);
        ec2.seedImage({ id: IMAGE, name: NAME });
        clock = new FakeClock();
        restore = ec2.install();
        said = [];
    });
    afterEach(() => restore());

    it("without a script: launches an encrypted test instance of the image, passes on both status checks, terminates it", async function () {
        await verifyImage(REGION, IMAGE, NAME, {}, waits());
        const [instance] = testInstances();
        const run = instance.launchedWith!;
        assert.equal(run.ImageId, IMAGE);
        assert.equal(run.InstanceType, "t3.micro");
        assert.equal(run.ClientToken, builderClientToken({ verifies: IMAGE, settings: {} }));
        assert.equal(run.SubnetId, undefined);
        assert.equal(run.UserData, undefined);
        assert.deepEqual(run.BlockDeviceMappings.map((m: { Ebs: { Encrypted: boolean } }) => m.Ebs.Encrypted), [true]);
        assert.deepEqual(instance.tags, { Name: `${NAME}-verify`, [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.verifies]: IMAGE });
        assert.ok(terminated(instance.id));
        assert.equal(countByAction(ec2.calls).GetConsoleOutput, undefined, "no console needed without a script");
        assert.ok(said.includes(`launched test instance ${instance.id} from ${IMAGE}`), said.join("\n"));
        assert.ok(said.includes(`verifying image ${IMAGE} with test instance ${instance.id}`), said.join("\n"));
        assert.ok(said.includes(`image ${IMAGE} passed its verification`), said.join("\n"));
    });

    it("the settings reach the launch: instance type, subnet, groups, script", async function () {
        ec2.newInstance = { ...ec2.newInstance, states: ["pending", "running", "stopped"], consoleOutput: `ok\n${SUCCESS_MARKER}\n` };
        const settings = { instanceType: "m7i.large", subnetId: "subnet-0123456789abcdef0", vpcSecurityGroupIds: ["sg-0123456789abcdef0"], userData: `echo ${SUCCESS_MARKER}; shutdown -h now` };
        await verifyImage(REGION, IMAGE, NAME, settings, waits());
        const run = testInstances()[0].launchedWith!;
        assert.deepEqual([run.InstanceType, run.SubnetId, run.SecurityGroupIds, Buffer.from(run.UserData, "base64").toString()],
            ["m7i.large", "subnet-0123456789abcdef0", ["sg-0123456789abcdef0"], settings.userData]);
        assert.equal(run.ClientToken, builderClientToken({ verifies: IMAGE, settings }));
    });

    it("with a script: passes when the instance powers off having printed the success marker", async function () {
        ec2.newInstance = { ...ec2.newInstance, states: ["pending", "running", "stopped"], consoleOutput: `tests ran\n${SUCCESS_MARKER}\n` };
        await verifyImage(REGION, IMAGE, NAME, { userData: "run tests" }, waits());
        assert.ok(terminated(testInstances()[0].id));
        assert.ok(said.includes(`image ${IMAGE} passed its verification`));
    });

    it("with a script that powers off without the marker: VerificationFailedError with the console tail, the instance terminated", async function () {
        ec2.newInstance = { ...ec2.newInstance, states: ["pending", "running", "stopped"], consoleOutput: "curl: connection refused\n" };
        const err = await rejection(verifyImage(REGION, IMAGE, NAME, { userData: "run tests" }, waits()));
        const id = testInstances()[0].id;
        assert.ok(err instanceof VerificationFailedError);
        assert.equal(err.name, "VerificationFailedError");
        assert.equal((err as unknown as { code: string }).code, "VerificationFailed");
        assert.equal(err.message, `golden-ami: image ${IMAGE} failed its verification: test instance ${id} powered off without printing ${SUCCESS_MARKER}. ` +
            `What to do: fix the image's recipe, or the test script (it prints ${SUCCESS_MARKER} when the test passes). Last console output:\ncurl: connection refused`);
        assert.ok(terminated(id));
        assert.ok(!said.includes(`image ${IMAGE} passed its verification`));
    });

    it("no console output at all: says (none)", async function () {
        ec2.newInstance = { ...ec2.newInstance, states: ["pending", "running", "stopped"], consoleOutput: "" };
        const err = await rejection(verifyImage(REGION, IMAGE, NAME, { userData: "run tests" }, waits()));
        assert.ok(err.message.endsWith("Last console output:\n(none)"), err.message);
    });

    it("a script that prints the failure marker: VerificationFailedError from the builder's failure, test instance named", async function () {
        ec2.newInstance = { ...ec2.newInstance, states: ["pending", "running", "stopped"], consoleOutput: `${FAILURE_MARKER}\n` };
        const err = await rejection(verifyImage(REGION, IMAGE, NAME, { userData: "run tests" }, waits()));
        const id = testInstances()[0].id;
        assert.ok(err instanceof VerificationFailedError);
        assert.ok(err.message.startsWith(`golden-ami: image ${IMAGE} failed its verification (test instance ${id}): the customisation of builder ${id} in ${REGION} failed`), err.message);
        assert.ok(terminated(id));
    });

    it("impaired status checks: VerificationFailedError; the instance terminated", async function () {
        ec2.newInstance = { ...ec2.newInstance, statuses: [{ system: "ok", instance: "impaired" }] };
        const err = await rejection(verifyImage(REGION, IMAGE, NAME, {}, waits()));
        assert.ok(err instanceof VerificationFailedError, err.message);
        assert.ok(terminated(testInstances()[0].id));
    });

    it("a test instance not ready within timeoutMinutes fails the verification (virtual time); the instance terminated", async function () {
        ec2.newInstance = { ...ec2.newInstance, states: ["pending"] };
        const start = clock.now();
        const err = await rejection(verifyImage(REGION, IMAGE, NAME, { timeoutMinutes: 3 }, waits()));
        const instance = testInstances()[0];
        assert.ok(err instanceof VerificationFailedError, err.message);
        assert.ok(err.message.startsWith(`golden-ami: image ${IMAGE} failed its verification (test instance ${instance.id}): builder ${instance.id} in ${REGION} was not ready (status checks passed) within 3 min`), err.message);
        const waited = clock.now() - start;
        assert.ok(waited >= 3 * 60_000 && waited < 10 * 60_000, `${waited} ms`);
        assert.ok(terminated(instance.id));
    });

    it("an error that is not the wait's own ends the verification as it is (not a verdict on the image)", async function () {
        ec2.fail("DescribeInstanceStatus", awsError("UnauthorizedOperation", "no status for you"), 100);
        const err = await rejection(verifyImage(REGION, IMAGE, NAME, {}, waits()));
        assert.ok(!(err instanceof VerificationFailedError), err.message);
        assert.match(err.message, /no status for you/);
        assert.ok(terminated(testInstances()[0].id));
    });

    it("the default timeout is 15 minutes", async function () {
        ec2.newInstance = { ...ec2.newInstance, states: ["pending"] };
        const start = clock.now();
        await rejection(verifyImage(REGION, IMAGE, NAME, {}, waits()));
        const waited = clock.now() - start;
        assert.ok(waited >= 15 * 60_000 && waited < 20 * 60_000, `${waited} ms`);
    });

    it("an earlier run's test instance of the image with other settings is terminated first; an ended one is left", async function () {
        const marks = { [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.verifies]: IMAGE };
        ec2.seedInstance({ id: "i-0stale000000000001", tags: marks, clientToken: "another-token" });
        ec2.seedInstance({ id: "i-0ended000000000002", tags: marks, clientToken: "old", states: ["terminated"] });
        ec2.seedInstance({ id: "i-0theirs00000000003", tags: { [MARKER_TAGS.verifies]: IMAGE } });
        await verifyImage(REGION, IMAGE, NAME, {}, waits());
        assert.ok(terminated("i-0stale000000000001"));
        assert.ok(said.includes("terminating test instance i-0stale000000000001 of an earlier run"), said.join("\n"));
        assert.ok(!said.some((m) => m.includes("i-0ended000000000002") || m.includes("i-0theirs00000000003")), said.join("\n"));
        const terminations = ec2.calls.filter((c) => c.action === "TerminateInstances").map((c) => c.input.InstanceIds[0]);
        assert.deepEqual(terminations, ["i-0stale000000000001", testInstances()[0].id]);
    });

    it("a killed run's test instance (same token) is resumed, judged and terminated, not launched twice", async function () {
        const token = builderClientToken({ verifies: IMAGE, settings: {} });
        ec2.seedInstance({ id: "i-0resumed0000000001", tags: { [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.verifies]: IMAGE }, clientToken: token });
        await verifyImage(REGION, IMAGE, NAME, {}, waits());
        assert.equal(countByAction(ec2.calls).RunInstances, undefined);
        assert.ok(terminated("i-0resumed0000000001"));
    });

    it("a failed look for earlier test instances names the image; the test instance is still terminated", async function () {
        ec2.fail("DescribeInstances", awsError("UnauthorizedOperation", "no"), 1, (input) => input.Filters?.some((f: { Name: string }) => f.Name === `tag:${MARKER_TAGS.verifies}`));
        const err = await rejection(verifyImage(REGION, IMAGE, NAME, {}, waits()));
        assert.ok(err.message.startsWith(`golden-ami: looking for test instances of image ${IMAGE} in ${REGION} failed: UnauthorizedOperation: no.`), err.message);
        assert.ok(terminated(testInstances()[0].id));
    });

    it("without onProgress it still runs", async function () {
        await verifyImage(REGION, IMAGE, NAME, {}, { clock, timeScale: 1 });
        assert.ok(terminated(testInstances()[0].id));
    });
});
