// Builder readiness on virtual time: the image is never taken mid-customisation.
import * as assert from "node:assert/strict";
import { FAILURE_MARKER } from "../../providers/core/options";
import { BuilderFailedError, waitForBuilder } from "../../providers/ec2/readiness";
import { awsError, countByAction, FakeClock, inputsOf, rejection, stubEc2 } from "../support/fakes";

const REGION = "us-east-1";
const BUILDER = "i-0123456789abcdef0";

/** An EC2 whose DescribeInstances walks through `states` (the last repeats). */
function scriptedBuilder(states: string[], statuses: Array<[string, string] | undefined> = [["ok", "ok"]], console: string | undefined | Error = "") {
    let look = 0;
    let statusLook = 0;
    return stubEc2(REGION, (action) => {
        switch (action) {
            case "DescribeInstances": {
                const state = states[Math.min(look++, states.length - 1)];
                return { Reservations: [{ Instances: [{ InstanceId: BUILDER, State: { Name: state } }] }] };
            }
            case "DescribeInstanceStatus": {
                const status = statuses[Math.min(statusLook++, statuses.length - 1)];
                if (!status) return { InstanceStatuses: [] };
                const [system, instance] = status;
                return { InstanceStatuses: [{ InstanceId: BUILDER, SystemStatus: { Status: system }, InstanceStatus: { Status: instance } }] };
            }
            case "GetConsoleOutput":
                if (console instanceof Error) throw console;
                return { InstanceId: BUILDER, Output: console === undefined ? undefined : Buffer.from(console).toString("base64") };
            default:
                throw awsError("UnsupportedOperation", `unexpected ${action}`);
        }
    });
}

describe("builder readiness", function () {
    let clock: FakeClock;
    let undo: Array<() => void> = [];

    beforeEach(() => {
        clock = new FakeClock();
        undo = [];
    });
    afterEach(() => {
        for (const u of undo.reverse()) u();
    });

    it('"none" looks at nothing', async () => {
        const stub = scriptedBuilder(["running"]);
        undo.push(stub.restore);
        await waitForBuilder(REGION, BUILDER, "none", { timeoutMs: 60_000, clock });
        assert.equal(stub.calls.length, 0);
    });

    it('"stopped" waits while the user data runs, until the builder powers itself off; it never stops it', async () => {
        const stub = scriptedBuilder(["running", "running", "running", "stopping", "stopped"]);
        undo.push(stub.restore);
        const progress: string[] = [];
        await waitForBuilder(REGION, BUILDER, "stopped", { timeoutMs: 30 * 60_000, clock, onProgress: (m) => progress.push(m) });
        assert.equal(countByAction(stub.calls).DescribeInstances, 5);
        assert.equal(countByAction(stub.calls).StopInstances, undefined);
        assert.ok(progress.some((m) => m.includes("instance stopping")), progress.join(" | "));
    });

    it('"stopped" past the provisioning timeout: an error with the tail of the console output', async () => {
        const consoleText = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n") + "\ncloud-init: install.sh failed with exit 3";
        const stub = scriptedBuilder(["running"], undefined, consoleText);
        undo.push(stub.restore);
        await assert.rejects(waitForBuilder(REGION, BUILDER, "stopped", { timeoutMs: 5 * 60_000, clock }), (err: Error) => {
            assert.match(err.message, /builder i-0123456789abcdef0 in us-east-1 was not ready \(powered off\) within 5 min/);
            assert.match(err.message, /install\.sh failed with exit 3/);
            assert.match(err.message, /shutdown -h now/);
            assert.doesNotMatch(err.message, /^line 5$/m, "only the tail of the console output");
            return true;
        });
        assert.equal(countByAction(stub.calls).GetConsoleOutput, 1);
    });

    it('"stopped" fails at once when the builder terminates instead (e.g. shutdown behaviour "terminate")', async () => {
        const stub = scriptedBuilder(["running", "shutting-down"]);
        undo.push(stub.restore);
        await assert.rejects(waitForBuilder(REGION, BUILDER, "stopped", { timeoutMs: 30 * 60_000, clock }), /shutting-down/);
    });

    it('"status-ok" waits for running, then for both status checks to pass', async () => {
        const stub = scriptedBuilder(["pending", "running"], [["initializing", "initializing"], ["ok", "initializing"], ["ok", "ok"]]);
        undo.push(stub.restore);
        await waitForBuilder(REGION, BUILDER, "status-ok", { timeoutMs: 30 * 60_000, clock });
        const counts = countByAction(stub.calls);
        assert.equal(counts.DescribeInstances, 2);
        assert.equal(counts.DescribeInstanceStatus, 3);
    });

    it('"status-ok" with an impaired check fails with what was impaired', async () => {
        const stub = scriptedBuilder(["running"], [["ok", "impaired"]]);
        undo.push(stub.restore);
        await assert.rejects(waitForBuilder(REGION, BUILDER, "status-ok", { timeoutMs: 30 * 60_000, clock }), /status checks failed \(system ok, instance impaired\)/);
    });

    describe("what a failed or late builder says (exact)", function () {
        it('"stopped" with the failure marker in its console: BuilderFailed with the last 40 lines, asked of the latest console output', async () => {
            const lines = Array.from({ length: 44 }, (_, i) => `line ${i + 1}`);
            const consoleText = [...lines, `${FAILURE_MARKER}: install.sh exit 3`].join("\r\n") + "\r\n\n";
            const stub = scriptedBuilder(["running", "stopped"], undefined, consoleText);
            undo.push(stub.restore);
            const progress: string[] = [];
            const err = await rejection(waitForBuilder(REGION, BUILDER, "stopped", { timeoutMs: 30 * 60_000, clock, onProgress: (m) => progress.push(m) }));
            const tail = [...lines.slice(5), `${FAILURE_MARKER}: install.sh exit 3`].join("\n");
            assert.ok(err instanceof BuilderFailedError);
            assert.equal(err.name, "BuilderFailedError");
            assert.equal((err as BuilderFailedError).code, "BuilderFailed");
            assert.equal((err as BuilderFailedError).consoleTail, tail);
            assert.equal(
                err.message,
                `golden-ami: the customisation of builder ${BUILDER} in ${REGION} failed: it powered off with ${FAILURE_MARKER} in its console output. ` +
                    `What to do: fix the user data (the console output below says where it stopped) and run \`pulumi up\` again. Last console output:\n${tail}`,
            );
            assert.deepEqual(inputsOf(stub.calls, "GetConsoleOutput"), [{ InstanceId: BUILDER, Latest: true }]);
            assert.equal(progress[0], `waiting for builder ${BUILDER} to finish its user data and power off`);
        });

        it('"stopped" powered off without the marker is ready', async () => {
            const stub = scriptedBuilder(["stopped"], undefined, "all done\n");
            undo.push(stub.restore);
            await waitForBuilder(REGION, BUILDER, "stopped", { timeoutMs: 30 * 60_000, clock });
            assert.equal(countByAction(stub.calls).GetConsoleOutput, 1);
        });

        it('"status-ok" times out on what is left of the timeout after reaching running, naming the last status (no console output yet)', async () => {
            // pending for the first 10 of the 30 minutes
            const start = clock.now();
            const stub = stubEc2(REGION, (action) => {
                if (action === "DescribeInstances") {
                    const state = clock.now() - start < 10 * 60_000 ? "pending" : "running";
                    return { Reservations: [{ Instances: [{ InstanceId: BUILDER, State: { Name: state } }] }] };
                }
                if (action === "DescribeInstanceStatus") return { InstanceStatuses: [] };
                if (action === "GetConsoleOutput") return { InstanceId: BUILDER };
                throw awsError("UnsupportedOperation", action);
            });
            undo.push(stub.restore);
            const err = await rejection(waitForBuilder(REGION, BUILDER, "status-ok", { timeoutMs: 30 * 60_000, clock }));
            assert.ok(clock.now() - start <= 31 * 60_000, `one timeout in all, not a fresh one after running (${(clock.now() - start) / 60_000} min)`);
            assert.ok(clock.now() - start >= 30 * 60_000);
            assert.equal((err as BuilderFailedError).code, "BuilderNotReady");
            assert.equal((err as BuilderFailedError).consoleTail, "");
            assert.equal(
                err.message,
                `golden-ami: builder ${BUILDER} in ${REGION} was not ready (status checks passed) within 30 min (last seen: status checks: system unknown, instance unknown). ` +
                    "What to do: check that the user data finishes with `shutdown -h now` and succeeds, or raise provisioningTimeoutMinutes. Last console output:\n(none yet)",
            );
            assert.deepEqual(inputsOf(stub.calls, "DescribeInstanceStatus")[0], { InstanceIds: [BUILDER], IncludeAllInstances: true });
        });

        it("a status without its checks reads unknown", async () => {
            const stub = stubEc2(REGION, (action) => {
                if (action === "DescribeInstances") return { Reservations: [{ Instances: [{ InstanceId: BUILDER, State: { Name: "running" } }] }] };
                if (action === "DescribeInstanceStatus") return { InstanceStatuses: [{ InstanceId: BUILDER }] };
                if (action === "GetConsoleOutput") return { InstanceId: BUILDER };
                throw awsError("UnsupportedOperation", action);
            });
            undo.push(stub.restore);
            const err = await rejection(waitForBuilder(REGION, BUILDER, "status-ok", { timeoutMs: 60_000, clock }));
            assert.match(err.message, /\(last seen: status checks: system unknown, instance unknown\)/);
        });

        it('"status-ok" is not done while the system check is not ok', async () => {
            const stub = scriptedBuilder(["running"], [["initializing", "ok"], ["ok", "ok"]]);
            undo.push(stub.restore);
            await waitForBuilder(REGION, BUILDER, "status-ok", { timeoutMs: 30 * 60_000, clock });
            assert.equal(countByAction(stub.calls).DescribeInstanceStatus, 2);
        });

        it("an impaired system check: BuilderFailed with the whole message and the console tail", async () => {
            const stub = scriptedBuilder(["running"], [["impaired", "ok"]]);
            undo.push(stub.restore);
            const err = await rejection(waitForBuilder(REGION, BUILDER, "status-ok", { timeoutMs: 30 * 60_000, clock }));
            assert.ok(err instanceof BuilderFailedError);
            assert.equal((err as BuilderFailedError).code, "BuilderFailed");
            assert.match(
                err.message,
                /status checks failed \(system impaired, instance ok\)\. What to do: check the user data \(a script that terminates its own instance, or one that breaks the instance's status checks\)\. Last console output:\n\(none\)$/,
            );
        });

        it("a console that cannot be read is said so in the error, which still comes", async () => {
            const stub = scriptedBuilder(["running", "terminated"], undefined, awsError("UnauthorizedOperation", "You are not authorized to perform this operation."));
            undo.push(stub.restore);
            const err = await rejection(waitForBuilder(REGION, BUILDER, "stopped", { timeoutMs: 30 * 60_000, clock }));
            assert.equal((err as BuilderFailedError).code, "BuilderFailed");
            assert.match(
                (err as BuilderFailedError).consoleTail,
                /^\(console output unavailable: golden-ami: reading the console output failed: UnauthorizedOperation: You are not authorized to perform this operation\./,
            );
            assert.ok(err.message.includes(`Last console output:\n${(err as BuilderFailedError).consoleTail}`));
        });

        it("an error that is not the wait's own is thrown as it is", async () => {
            const denied = awsError("UnauthorizedOperation", "not authorized to DescribeInstances");
            const stub = stubEc2(REGION, () => {
                throw denied;
            });
            undo.push(stub.restore);
            const err = await rejection(waitForBuilder(REGION, BUILDER, "status-ok", { timeoutMs: 60_000, clock }));
            assert.ok(!(err instanceof BuilderFailedError), err.message);
            assert.equal(countByAction(stub.calls).GetConsoleOutput, undefined);
        });
    });
});
