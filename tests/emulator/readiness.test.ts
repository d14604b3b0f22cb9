// Extension 1 (time), builder readiness: an instance whose user data ends in a shutdown
// command powers itself off after `userDataSeconds` (as a builder does at the end of its
// customisation), and status checks read `initializing` for `statusInitializing` seconds
// after an instance runs, then `ok`, or `impaired` for the check failNext {kind: "status"} marks.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator, pollUntil } from "../support/emulator";
import { instanceState } from "./helpers";

const REGION = "us-east-1";
const BUILDER_SCRIPT = "#!/bin/bash\nset -e\nyum install -y nginx\n# done: power off\nshutdown -h now\n";

/** Looks at the instance every 100 ms for `ms` and asserts it is `state` every time (a "never changes" check). */
async function staysIn(client: ec2.EC2Client, instanceId: string, state: string, ms: number): Promise<void> {
    const until = Date.now() + ms;
    await pollUntil(
        async () => {
            assert.equal(await instanceState(client, instanceId), state, `${instanceId} left ${state}`);
            return Date.now();
        },
        (now) => now >= until,
        { what: `${instanceId} to stay ${state}`, timeoutMs: ms + 5_000 },
    );
}

async function status(client: ec2.EC2Client, instanceId: string): Promise<ec2.InstanceStatus | undefined> {
    const out = await client.send(new ec2.DescribeInstanceStatusCommand({ InstanceIds: [instanceId], IncludeAllInstances: true }));
    return out.InstanceStatuses?.[0];
}

describe("emulator: builder readiness (self-stop, status checks)", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;

    before(async function () {
        emulator = await Emulator.start({ timing: { instancePending: 0.3, instanceStopping: 0.5, userDataSeconds: 1 } });
        client = emulator.ec2(REGION);
    });
    after(async function () {
        await emulator?.stop();
    });

    it("user data ending in `shutdown -h now`: running, then stopping, then stopped on its own, with EC2's state reason", async function () {
        const instanceId = await emulator.launchInstance(REGION, { userData: BUILDER_SCRIPT });
        const runningAt = Date.now();
        assert.equal(await instanceState(client, instanceId), "running");
        const seen: string[] = [];
        await pollUntil(
            async () => {
                const state = (await instanceState(client, instanceId))!;
                if (seen[seen.length - 1] !== state) seen.push(state);
                return state;
            },
            (s) => s === "stopped",
            { what: "the builder to power itself off", intervalMs: 50, timeoutMs: 10_000 },
        );
        const stoppedAfter = Date.now() - runningAt;
        assert.deepEqual(seen, ["running", "stopping", "stopped"]);
        assert.ok(stoppedAfter >= 1_000, `stopped ${stoppedAfter} ms after running (userDataSeconds 1 + instanceStopping 0.5)`);
        const described = await client.send(new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        assert.equal(described.Reservations![0].Instances![0].StateReason?.Code, "Client.InstanceInitiatedShutdown");

        // User data runs at first boot only: started again, it keeps running.
        await client.send(new ec2.StartInstancesCommand({ InstanceIds: [instanceId] }));
        await pollUntil(() => instanceState(client, instanceId), (s) => s === "running", { what: "running again" });
        await staysIn(client, instanceId, "running", 1_500);
    });

    it("user data that does not end in a shutdown (or reboots) keeps the instance running", async function () {
        const plain = await emulator.launchInstance(REGION, { userData: "#!/bin/bash\necho hello\n" });
        const reboot = await emulator.launchInstance(REGION, { userData: "#!/bin/bash\nshutdown -r now\n" });
        const none = await emulator.launchInstance(REGION);
        await Promise.all([plain, reboot, none].map((id) => staysIn(client, id, "running", 1_500)));
    });

    it("an instance stopped by hand before its user data finishes does not power off again later", async function () {
        const instanceId = await emulator.launchInstance(REGION, { userData: BUILDER_SCRIPT });
        await client.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
        await pollUntil(() => instanceState(client, instanceId), (s) => s === "stopped", { what: "stopped" });
        await client.send(new ec2.StartInstancesCommand({ InstanceIds: [instanceId] }));
        await pollUntil(() => instanceState(client, instanceId), (s) => s === "running", { what: "running again" });
        await staysIn(client, instanceId, "running", 1_500);
    });

    it("status checks: initializing for statusInitializing seconds after running, then ok", async function () {
        await emulator.configure({ timing: { statusInitializing: 1 } });
        try {
            const instanceId = await emulator.launchInstance(REGION);
            const first = await status(client, instanceId);
            assert.equal(first?.InstanceStatus?.Status, "initializing");
            assert.equal(first?.SystemStatus?.Status, "initializing");
            const ok = await pollUntil(() => status(client, instanceId), (s) => s?.InstanceStatus?.Status !== "initializing", { what: "checks done" });
            assert.equal(ok?.InstanceStatus?.Status, "ok");
            assert.equal(ok?.SystemStatus?.Status, "ok");
            assert.equal(ok?.InstanceStatus?.Details?.[0]?.Status, "passed");
        } finally {
            await emulator.configure({ timing: { statusInitializing: null } });
        }
    });

    it("failNext {kind: status}: the next instance's instance check ends impaired (system check ok); others are not affected", async function () {
        // A window long enough that the first look lands inside it on a loaded machine (0.5 s did not at load 15).
        await emulator.configure({ timing: { statusInitializing: 4 }, failNext: { kind: "status" } });
        try {
            const impaired = await emulator.launchInstance(REGION);
            assert.equal((await status(client, impaired))?.InstanceStatus?.Status, "initializing");
            const healthy = await emulator.launchInstance(REGION);
            const final = await pollUntil(() => status(client, impaired), (s) => s?.InstanceStatus?.Status !== "initializing", { what: "checks done" });
            assert.equal(final?.InstanceStatus?.Status, "impaired");
            assert.equal(final?.InstanceStatus?.Details?.[0]?.Status, "failed");
            assert.ok(final?.InstanceStatus?.Details?.[0]?.ImpairedSince instanceof Date);
            assert.equal(final?.SystemStatus?.Status, "ok");
            const other = await pollUntil(() => status(client, healthy), (x) => x?.InstanceStatus?.Status !== "initializing", { what: "checks done" });
            assert.equal(other?.InstanceStatus?.Status, "ok");

            await emulator.configure({ failNext: { kind: "status", check: "system" } });
            const system = await emulator.launchInstance(REGION);
            const s = await pollUntil(() => status(client, system), (x) => x?.SystemStatus?.Status !== "initializing", { what: "checks done" });
            assert.equal(s?.SystemStatus?.Status, "impaired");
            assert.equal(s?.InstanceStatus?.Status, "ok");
        } finally {
            await emulator.configure({ timing: { statusInitializing: null } });
        }
    });

    it("a stopped instance's checks are not-applicable", async function () {
        const instanceId = await emulator.launchInstance(REGION);
        await client.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
        await pollUntil(() => instanceState(client, instanceId), (s) => s === "stopped", { what: "stopped" });
        assert.equal((await status(client, instanceId))?.InstanceStatus?.Status, "not-applicable");
    });
});
