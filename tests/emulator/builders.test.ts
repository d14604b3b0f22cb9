// Extension 8 (ext_instances.py), builders as EC2 runs them: RunInstances ClientToken
// idempotency, user data that runs (console output, failure, self-termination), status
// checks that fail for instances of chosen AMIs, TerminateInstances through shutting-down.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator, pollUntil } from "../support/emulator";
import { instanceState } from "./helpers";

const REGION = "us-east-1";

function b64(text: string): string {
    return Buffer.from(text).toString("base64");
}

async function console_(client: ec2.EC2Client, instanceId: string): Promise<string> {
    const out = await client.send(new ec2.GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
    return out.Output ? Buffer.from(out.Output, "base64").toString("utf8") : "";
}

async function statusOf(client: ec2.EC2Client, instanceId: string): Promise<{ system?: string; instance?: string }> {
    const out = await client.send(new ec2.DescribeInstanceStatusCommand({ InstanceIds: [instanceId], IncludeAllInstances: true }));
    const s = out.InstanceStatuses?.[0];
    return { system: s?.SystemStatus?.Status, instance: s?.InstanceStatus?.Status };
}

/** Every state the instance shows, in order, until it is `last`. */
async function statesUntil(client: ec2.EC2Client, instanceId: string, last: string, timeoutMs = 15_000): Promise<string[]> {
    const seen: string[] = [];
    await pollUntil(
        async () => {
            const state = (await instanceState(client, instanceId))!;
            if (seen[seen.length - 1] !== state) seen.push(state);
            return state;
        },
        (s) => s === last,
        { what: `${instanceId} to be ${last}`, intervalMs: 50, timeoutMs },
    );
    return seen;
}

describe("emulator: builders (ClientToken, user data that runs, status failures per AMI, shutting-down)", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;
    let amiA: string;
    let amiB: string;

    before(async function () {
        emulator = await Emulator.start({ timing: { userDataSeconds: 1, instanceStopping: 0.3, instanceTerminating: 0.6 } });
        client = emulator.ec2(REGION);
        const images = await client.send(new ec2.DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }] }));
        [amiA, amiB] = (images.Images ?? []).map((i) => i.ImageId!);
        assert.ok(amiA && amiB && amiA !== amiB, "two distinct default AMIs");
    });
    after(async function () {
        await emulator?.stop();
    });

    function run(extra: Partial<ec2.RunInstancesCommandInput> = {}): Promise<ec2.RunInstancesCommandOutput> {
        return client.send(new ec2.RunInstancesCommand({ ImageId: amiA, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, ...extra }));
    }

    it("RunInstances with a repeated ClientToken and the same parameters answers the first reservation, even once terminated", async function () {
        const token = `builder-${Date.now()}`;
        const first = await run({ ClientToken: token, UserData: b64("#!/bin/bash\necho hi\n") });
        const again = await run({ ClientToken: token, UserData: b64("#!/bin/bash\necho hi\n") });
        assert.equal(again.ReservationId, first.ReservationId);
        assert.equal(again.Instances![0].InstanceId, first.Instances![0].InstanceId);
        const tagged = await client.send(new ec2.DescribeInstancesCommand({ Filters: [{ Name: "client-token", Values: [token] }] }));
        assert.equal(tagged.Reservations?.flatMap((r) => r.Instances ?? []).length ?? 0, 1, "one instance for the token");

        await client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [first.Instances![0].InstanceId!] }));
        await statesUntil(client, first.Instances![0].InstanceId!, "terminated");
        const afterTermination = await run({ ClientToken: token, UserData: b64("#!/bin/bash\necho hi\n") });
        assert.equal(afterTermination.Instances![0].InstanceId, first.Instances![0].InstanceId, "EC2 keeps the token bound after termination");

        await assert.rejects(run({ ClientToken: token, InstanceType: "t3.large" }), (err: Error) => err.name === "IdempotentParameterMismatch");
        const plainA = await run();
        const plainB = await run();
        assert.notEqual(plainA.Instances![0].InstanceId, plainB.Instances![0].InstanceId, "no token: a new instance each time");
        await client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [plainA.Instances![0].InstanceId!, plainB.Instances![0].InstanceId!] }));
    });

    it("the user data runs: echo lines reach the console output at their time, and the shutdown powers the instance off", async function () {
        const script = "#!/bin/bash\nset -euo pipefail\necho 'installing nginx' > /dev/console\nsleep 1\necho customised\nshutdown -h now\n";
        const launched = await run({ UserData: b64(script) });
        const id = launched.Instances![0].InstanceId!;
        const early = await console_(client, id);
        assert.ok(!early.includes("installing nginx"), `nothing printed before the script runs:\n${early}`);
        const firstLine = await pollUntil(() => console_(client, id), (out) => out.includes("installing nginx"), { what: "the first echo", intervalMs: 50 });
        assert.ok(!firstLine.includes("customised"), "the line after `sleep 1` comes a second later");
        assert.deepEqual(await statesUntil(client, id, "stopped"), ["running", "stopping", "stopped"]);
        const final = await console_(client, id);
        assert.match(final, /installing nginx\ncustomised/);
    });

    it("a failing script runs its ERR trap: failure line and marker on the console, then powered off", async function () {
        const script = "#!/bin/bash\nset -e\ntrap 'echo GOLDEN-AMI-FAILED; shutdown -h now' ERR\necho step one\nexit 3\necho never\n";
        const id = (await run({ UserData: b64(script) })).Instances![0].InstanceId!;
        await statesUntil(client, id, "stopped");
        const out = await console_(client, id);
        assert.match(out, /step one\n.*Failed running .*\[3\]\nGOLDEN-AMI-FAILED/);
        assert.ok(!out.includes("never"));

        const noTrap = (await run({ UserData: b64("#!/bin/bash\nset -e\nfalse\nshutdown -h now\n") })).Instances![0].InstanceId!;
        await pollUntil(() => console_(client, noTrap), (o) => o.includes("Failed running"), { what: "the failure line", intervalMs: 50 });
        assert.equal(await instanceState(client, noTrap), "running", "without a trap a failed script leaves the instance running");
        await client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [noTrap] }));
    });

    it("a script that terminates its own instance (or shuts down with behaviour terminate) ends shutting-down, then terminated", async function () {
        const self = (await run({ UserData: b64("#!/bin/bash\necho bye\naws ec2 terminate-instances --instance-ids $(ec2-metadata -i)\n") })).Instances![0].InstanceId!;
        const byBehaviour = (await run({ UserData: b64("#!/bin/bash\nshutdown -h now\n"), InstanceInitiatedShutdownBehavior: "terminate" })).Instances![0].InstanceId!;
        const seen = await Promise.all([self, byBehaviour].map((id) => statesUntil(client, id, "terminated")));
        for (const [i, id] of [self, byBehaviour].entries()) {
            assert.deepEqual(seen[i], ["running", "shutting-down", "terminated"]);
            const described = await client.send(new ec2.DescribeInstancesCommand({ InstanceIds: [id] }));
            assert.equal(described.Reservations![0].Instances![0].StateReason?.Code, "Client.InstanceInitiatedShutdown");
        }
        assert.match(await console_(client, self), /bye/, "console output stays readable after termination");
    });

    it("statusFailures fails a status check for instances of one AMI only; null lifts it", async function () {
        await emulator.configure({ statusFailures: { [amiB]: "system" } });
        try {
            const ofB = (await run({ ImageId: amiB })).Instances![0].InstanceId!;
            const ofA = (await run()).Instances![0].InstanceId!;
            assert.deepEqual(await statusOf(client, ofB), { system: "impaired", instance: "ok" });
            assert.deepEqual(await statusOf(client, ofA), { system: "ok", instance: "ok" });
            await emulator.configure({ statusFailures: { [amiB]: null } });
            assert.deepEqual(await statusOf(client, ofB), { system: "ok", instance: "ok" });
            await client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [ofA, ofB] }));
        } finally {
            await emulator.configure({ statusFailures: { [amiB]: null } });
        }
    });

    it("TerminateInstances answers shutting-down; the instance reads shutting-down for instanceTerminating, then terminated", async function () {
        const id = (await run()).Instances![0].InstanceId!;
        const out = await client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [id] }));
        assert.equal(out.TerminatingInstances![0].CurrentState?.Name, "shutting-down");
        const started = Date.now();
        assert.deepEqual(await statesUntil(client, id, "terminated"), ["shutting-down", "terminated"]);
        assert.ok(Date.now() - started >= 500, "shutting-down lasted instanceTerminating (0.6 s)");
        await assert.rejects(client.send(new ec2.StartInstancesCommand({ InstanceIds: [id] })), (err: Error) => err.name === "IncorrectInstanceState");
    });
});
