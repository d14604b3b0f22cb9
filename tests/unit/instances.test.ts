// providers/ec2/instances.ts on its own (virtual time): look-up, stop, start, terminate and
// what each says when EC2 refuses; the states a retried or resumed step finds the instance in.
import * as assert from "node:assert/strict";
import {
    describeInstance, isEnded, requireImageableInstance, startInstance, stopInstance, terminateInstance, waitForInstanceState,
} from "../../providers/ec2/instances";
import { actions, awsError, FakeClock, inputsOf, rejection, stubEc2 } from "../support/fakes";

const REGION = "us-east-1";
const ID = "i-0123456789abcdef0";

/**
 * DescribeInstances walks through `states` (the last repeats; undefined: not described,
 * "notfound": InvalidInstanceID.NotFound); `fail` makes one action throw.
 */
function scripted(states: Array<string | undefined>, fail: Record<string, Error> = {}) {
    let look = 0;
    return stubEc2(REGION, (action) => {
        if (fail[action]) throw fail[action];
        if (action === "DescribeInstances") {
            const state = states[Math.min(look++, states.length - 1)];
            if (state === "notfound") throw awsError("InvalidInstanceID.NotFound", `The instance ID '${ID}' does not exist`);
            return { Reservations: state === undefined ? [] : [{ Instances: [{ InstanceId: ID, State: { Name: state } }] }] };
        }
        return {};
    });
}

describe("instances (providers/ec2/instances.ts)", function () {
    let clock: FakeClock;
    let restore: (() => void) | undefined;
    const opts = (progress?: string[]) => ({ timeoutMs: 10 * 60_000, clock, onProgress: progress ? (m: string) => progress.push(m) : undefined });
    beforeEach(() => {
        clock = new FakeClock();
    });
    afterEach(() => restore?.());

    describe("describeInstance", function () {
        it("no reservation, a reservation without instances, and NotFound are all undefined", async function () {
            for (const answer of [{}, { Reservations: [] }, { Reservations: [{}] }, { Reservations: [{ Instances: [] }] }]) {
                restore = stubEc2(REGION, () => answer).restore;
                assert.equal(await describeInstance(REGION, ID), undefined, JSON.stringify(answer));
            }
            restore = scripted(["notfound"]).restore;
            assert.equal(await describeInstance(REGION, ID), undefined);
        });

        it("another error names the instance and region", async function () {
            restore = scripted([], { DescribeInstances: awsError("UnauthorizedOperation", "You are not authorized to perform this operation.") }).restore;
            const err = await rejection(describeInstance(REGION, ID));
            assert.match(err.message, new RegExp(`^golden-ami: describing instance ${ID} in ${REGION} failed: UnauthorizedOperation: `));
        });
    });

    describe("requireImageableInstance", function () {
        it("a missing instance: InstanceNotFound, saying what to check", async function () {
            restore = scripted([undefined]).restore;
            const err = await rejection(requireImageableInstance(REGION, ID));
            assert.equal((err as { code?: string }).code, "InstanceNotFound");
            assert.equal(
                err.message,
                `golden-ami: instance ${ID} does not exist in ${REGION}. What to do: check instanceId and region (an instance can only be imaged in its own region).`,
            );
        });

        for (const state of ["terminated", "shutting-down"]) {
            it(`a ${state} instance can no longer be imaged`, async function () {
                restore = scripted([state]).restore;
                const err = await rejection(requireImageableInstance(REGION, ID));
                assert.equal((err as { code?: string }).code, "IncorrectInstanceState");
                assert.equal(
                    err.message,
                    `golden-ami: instance ${ID} in ${REGION} is ${state} and can no longer be imaged. What to do: build a new instance (or point instanceId at a running or stopped one).`,
                );
            });
        }

        it("an instance without a State is returned as it is", async function () {
            restore = stubEc2(REGION, () => ({ Reservations: [{ Instances: [{ InstanceId: ID }] }] })).restore;
            assert.equal((await requireImageableInstance(REGION, ID)).InstanceId, ID);
        });
    });

    describe("waitForInstanceState", function () {
        it("an instance no longer described fails the wait as gone", async function () {
            restore = scripted(["pending", undefined]).restore;
            const err = await rejection(waitForInstanceState(REGION, ID, "running", opts()));
            assert.match(err.message, new RegExp(`instance ${ID} is gone`));
        });

        it("a timeout names the instance, region and target", async function () {
            restore = scripted(["stopping"]).restore;
            const err = await rejection(waitForInstanceState(REGION, ID, "stopped", opts()));
            assert.match(err.message, new RegExp(`instance ${ID} in ${REGION} to be stopped`));
            assert.match(err.message, /instance stopping/);
        });
    });

    describe("stopInstance", function () {
        it("a stopped instance: nothing but the look", async function () {
            const stub = scripted(["stopped"]);
            restore = stub.restore;
            await stopInstance(REGION, ID, opts());
            assert.deepEqual(actions(stub.calls), ["DescribeInstances"]);
        });

        it("a running one is stopped, saying so, and waited for", async function () {
            const stub = scripted(["running", "stopping", "stopped"]);
            restore = stub.restore;
            const progress: string[] = [];
            await stopInstance(REGION, ID, opts(progress));
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "StopInstances", "DescribeInstances", "DescribeInstances"]);
            assert.deepEqual(inputsOf(stub.calls, "StopInstances"), [{ InstanceIds: [ID] }]);
            assert.equal(progress[0], `stopping instance ${ID}`);
        });

        it("a pending one is waited out until running, then stopped", async function () {
            const stub = scripted(["pending", "pending", "running", "stopped"]);
            restore = stub.restore;
            await stopInstance(REGION, ID, opts());
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "DescribeInstances", "DescribeInstances", "StopInstances", "DescribeInstances"]);
        });

        it("a stopping one is only waited for", async function () {
            const stub = scripted(["stopping", "stopped"]);
            restore = stub.restore;
            await stopInstance(REGION, ID, opts());
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "DescribeInstances"]);
        });

        it("a refused stop names the instance and region", async function () {
            restore = scripted(["running"], { StopInstances: awsError("UnsupportedOperation", "The instance does not support stopping.") }).restore;
            const err = await rejection(stopInstance(REGION, ID, opts()));
            assert.match(err.message, new RegExp(`^golden-ami: stopping instance ${ID} in ${REGION} failed: UnsupportedOperation: `));
        });
    });

    describe("startInstance", function () {
        it("a running instance: nothing but the look", async function () {
            const stub = scripted(["running"]);
            restore = stub.restore;
            await startInstance(REGION, ID, opts());
            assert.deepEqual(actions(stub.calls), ["DescribeInstances"]);
        });

        it("a stopped one is started, saying so, and waited for", async function () {
            const stub = scripted(["stopped", "pending", "running"]);
            restore = stub.restore;
            const progress: string[] = [];
            await startInstance(REGION, ID, opts(progress));
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "StartInstances", "DescribeInstances", "DescribeInstances"]);
            assert.deepEqual(inputsOf(stub.calls, "StartInstances"), [{ InstanceIds: [ID] }]);
            assert.equal(progress[0], `starting instance ${ID}`);
        });

        it("a stopping one is waited out until stopped, then started", async function () {
            const stub = scripted(["stopping", "stopping", "stopped", "running"]);
            restore = stub.restore;
            await startInstance(REGION, ID, opts());
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "DescribeInstances", "DescribeInstances", "StartInstances", "DescribeInstances"]);
        });

        it("a pending one is only waited for", async function () {
            const stub = scripted(["pending", "running"]);
            restore = stub.restore;
            await startInstance(REGION, ID, opts());
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "DescribeInstances"]);
        });

        it("a refused start names the instance and region", async function () {
            restore = scripted(["stopped"], { StartInstances: awsError("InsufficientInstanceCapacity", "Insufficient capacity.") }).restore;
            const err = await rejection(startInstance(REGION, ID, opts()));
            assert.match(err.message, new RegExp(`^golden-ami: starting instance ${ID} in ${REGION} failed: InsufficientInstanceCapacity: `));
        });
    });

    describe("isEnded", function () {
        it("gone or going: not described, without a state, terminated, shutting-down; not the others", function () {
            assert.equal(isEnded(undefined), true);
            assert.equal(isEnded({}), true);
            assert.equal(isEnded({ State: {} }), true);
            assert.equal(isEnded({ State: { Name: "terminated" } }), true);
            assert.equal(isEnded({ State: { Name: "shutting-down" } }), true);
            for (const Name of ["pending", "running", "stopping", "stopped"] as const) assert.equal(isEnded({ State: { Name } }), false, Name);
        });
    });

    describe("terminateInstance", function () {
        it("missing or terminated already: nothing but the look", async function () {
            for (const state of [undefined, "notfound", "terminated"]) {
                const stub = scripted([state]);
                restore = stub.restore;
                await terminateInstance(REGION, ID, opts());
                assert.deepEqual(actions(stub.calls), ["DescribeInstances"], String(state));
            }
        });

        it("a running one is terminated, saying so, and waited for until terminated", async function () {
            const stub = scripted(["running", "shutting-down", "shutting-down", "terminated"]);
            restore = stub.restore;
            const progress: string[] = [];
            await terminateInstance(REGION, ID, opts(progress));
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "TerminateInstances", "DescribeInstances", "DescribeInstances", "DescribeInstances"]);
            assert.deepEqual(inputsOf(stub.calls, "TerminateInstances"), [{ InstanceIds: [ID] }]);
            assert.equal(progress[0], `terminating instance ${ID}`);
            assert.ok(progress.includes("instance shutting-down"), progress.join(" | "));
        });

        it("a shutting-down one is only waited for; no longer described counts as terminated", async function () {
            const stub = scripted(["shutting-down", "shutting-down", undefined]);
            restore = stub.restore;
            await terminateInstance(REGION, ID, opts());
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "DescribeInstances", "DescribeInstances"]);
        });

        it("NotFound from TerminateInstances is done; another error names the instance and region", async function () {
            let stub = scripted(["running"], { TerminateInstances: awsError("InvalidInstanceID.NotFound", "gone") });
            restore = stub.restore;
            await terminateInstance(REGION, ID, opts());
            assert.deepEqual(actions(stub.calls), ["DescribeInstances", "TerminateInstances"]);
            stub = scripted(["running"], { TerminateInstances: awsError("OperationNotPermitted", "The instance has termination protection.") });
            restore = stub.restore;
            const err = await rejection(terminateInstance(REGION, ID, opts()));
            assert.match(err.message, new RegExp(`^golden-ami: terminating instance ${ID} in ${REGION} failed: OperationNotPermitted: `));
        });

        it("a timeout names the instance and region", async function () {
            restore = scripted(["running", "shutting-down"]).restore;
            const err = await rejection(terminateInstance(REGION, ID, opts()));
            assert.match(err.message, new RegExp(`instance ${ID} in ${REGION} to be terminated`));
        });
    });
});
