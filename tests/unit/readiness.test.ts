// Builder readiness on virtual time: the image is never taken mid-customisation.
import * as assert from "node:assert/strict";
import { waitForBuilder } from "../../providers/ec2/readiness";
import { awsError, countByAction, FakeClock, stubEc2 } from "../support/fakes";

const REGION = "us-east-1";
const BUILDER = "i-0123456789abcdef0";

/** An EC2 whose DescribeInstances walks through `states` (the last repeats). */
function scriptedBuilder(states: string[], statuses: Array<[string, string]> = [["ok", "ok"]], console = "") {
    let look = 0;
    let statusLook = 0;
    return stubEc2(REGION, (action) => {
        switch (action) {
            case "DescribeInstances": {
                const state = states[Math.min(look++, states.length - 1)];
                return { Reservations: [{ Instances: [{ InstanceId: BUILDER, State: { Name: state } }] }] };
            }
            case "DescribeInstanceStatus": {
                const [system, instance] = statuses[Math.min(statusLook++, statuses.length - 1)];
                return { InstanceStatuses: [{ InstanceId: BUILDER, SystemStatus: { Status: system }, InstanceStatus: { Status: instance } }] };
            }
            case "GetConsoleOutput":
                return { InstanceId: BUILDER, Output: Buffer.from(console).toString("base64") };
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
});
