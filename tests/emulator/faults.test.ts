// Extension 5 (faults on demand): RequestLimitExceeded throttling and failNext images.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { describeImage, errorOf, uniqueName, waitForImageState, sharedEmulator } from "./helpers";

const REGION = "us-east-1";

describe("emulator: faults", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;
    let noRetry: ec2.EC2Client;

    before(async function () {
        emulator = await sharedEmulator();
        await emulator.reset();
        client = emulator.ec2(REGION);
        noRetry = new ec2.EC2Client({ region: REGION, endpoint: emulator.endpoint, maxAttempts: 1, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    });
    afterEach(async function () {
        await emulator.configure({ throttle: null });
    });
    after(async function () {
        noRetry?.destroy();
    });

    it("throttle fraction 1 on DescribeImages: HTTP 503 RequestLimitExceeded, other actions unaffected", async function () {
        await emulator.configure({ throttle: { fraction: 1, actions: ["DescribeImages"] } });
        const error = await errorOf(noRetry.send(new ec2.DescribeImagesCommand({ Owners: ["self"] })));
        assert.equal(error.name, "RequestLimitExceeded");
        assert.equal(error.status, 503);
        assert.equal(error.message, "Request limit exceeded.");
        await noRetry.send(new ec2.DescribeInstancesCommand({}));

        const { calls } = await emulator.calls();
        const last = calls.slice(-2);
        assert.deepEqual(last.map((c) => [c.action, c.throttled, c.status]), [["DescribeImages", true, 503], ["DescribeInstances", false, 200]]);
    });

    it("the raw response is EC2's XML error body", async function () {
        await emulator.configure({ throttle: { fraction: 1 } });
        const response = await fetch(emulator.endpoint, {
            method: "POST",
            headers: {
                "content-type": "application/x-www-form-urlencoded",
                authorization: "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00",
            },
            body: "Action=DescribeRegions&Version=2016-11-15",
        });
        assert.equal(response.status, 503);
        assert.match(
            await response.text(),
            /^<\?xml[^>]*>\s*<Response><Errors><Error><Code>RequestLimitExceeded<\/Code><Message>Request limit exceeded\.<\/Message><\/Error><\/Errors><RequestID>[^<]+<\/RequestID><\/Response>$/,
        );
    });

    it("a seeded fraction throttles the same calls on every run; the SDK's retries get through", async function () {
        async function run(): Promise<boolean[]> {
            await emulator.configure({ throttle: { fraction: 0.5, seed: 7 } });
            const outcomes: boolean[] = [];
            for (let i = 0; i < 16; i++) {
                try {
                    await noRetry.send(new ec2.DescribeRegionsCommand({}));
                    outcomes.push(false);
                } catch (error) {
                    assert.equal((error as Error).name, "RequestLimitExceeded");
                    outcomes.push(true);
                }
            }
            return outcomes;
        }
        const first = await run();
        const second = await run();
        assert.deepEqual(second, first);
        assert.ok(first.includes(true) && first.includes(false), `a mix: ${first.join(",")}`);

        await emulator.configure({ throttle: { fraction: 0.3, seed: 1 } });
        const retrying = new ec2.EC2Client({ region: REGION, endpoint: emulator.endpoint, maxAttempts: 10, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        try {
            for (let i = 0; i < 5; i++) await retrying.send(new ec2.DescribeRegionsCommand({}));
        } finally {
            retrying.destroy();
        }
    });

    it("failNext create: the next CreateImage ends failed with a StateReason, once", async function () {
        await emulator.configure({ timing: { imagePending: 0.5 }, failNext: { kind: "create", code: "Server.InternalError", message: "Snapshot creation failed" } });
        try {
            const instanceId = await emulator.launchInstance(REGION);
            const { ImageId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("doomed") }));
            assert.equal((await describeImage(client, ImageId!)).State, "pending");
            const failed = await waitForImageState(client, ImageId!, ["available", "failed"]);
            assert.equal(failed.State, "failed");
            assert.deepEqual(failed.StateReason, { Code: "Server.InternalError", Message: "Snapshot creation failed" });

            const next = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("fine") }));
            const fine = await waitForImageState(client, next.ImageId!, ["available", "failed"]);
            assert.equal(fine.State, "available", "failNext is consumed once");
            assert.equal(fine.StateReason, undefined);
        } finally {
            await emulator.configure({ timing: { imagePending: null } });
        }
    });

    it("failNext copy: only the next CopyImage fails (default code and message)", async function () {
        const instanceId = await emulator.launchInstance(REGION);
        const { ImageId: sourceId } = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("src") }));
        await emulator.configure({ failNext: { kind: "copy" } });
        const created = await client.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("unaffected") }));
        assert.equal((await describeImage(client, created.ImageId!)).State, "available", "a create does not consume a copy failure");

        const copy = await client.send(new ec2.CopyImageCommand({ SourceImageId: sourceId, SourceRegion: REGION, Name: uniqueName("copy") }));
        const failed = await waitForImageState(client, copy.ImageId!, ["available", "failed"]);
        assert.equal(failed.State, "failed");
        assert.ok(failed.StateReason?.Code && failed.StateReason.Message);

        const again = await client.send(new ec2.CopyImageCommand({ SourceImageId: sourceId, SourceRegion: REGION, Name: uniqueName("copy") }));
        assert.equal((await waitForImageState(client, again.ImageId!, ["available", "failed"])).State, "available");
    });

    it("bad control requests are refused with HTTP 400", async function () {
        await assert.rejects(emulator.configure({ throttle: { fraction: 2 } }), /HTTP 400/);
        await assert.rejects(emulator.configure({ timing: { imagePending: -1 } }), /HTTP 400/);
    });
});
