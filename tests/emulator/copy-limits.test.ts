// Extension 8 (copy limits): snapshot copies in flight per destination region, ResourceLimitExceeded beyond.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { describeImage, errorOf, snapshotIds, uniqueName, waitForImageState } from "./helpers";

const SOURCE = "us-east-1";
const DESTINATION = "eu-west-1";
const OTHER = "ap-southeast-2";
const COPY_S = 3;

describe("emulator: copy limits", function () {
    let emulator: Emulator;
    let source: ec2.EC2Client;
    let sourceImageId: string;
    let volumes: number;

    const copy = (region: string, extra: Partial<ec2.CopyImageRequest> = {}) =>
        emulator.ec2(region).send(new ec2.CopyImageCommand({ SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: uniqueName("copy"), ...extra }));

    before(async function () {
        // Copies stay pending for COPY_S seconds; the limit comes from the start-up environment.
        emulator = await Emulator.start({ timing: { copyPending: COPY_S }, copyLimit: 2 });
        source = emulator.ec2(SOURCE);
        const instanceId = await emulator.launchInstance(SOURCE);
        sourceImageId = (await source.send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("golden") }))).ImageId!;
        volumes = snapshotIds(await describeImage(source, sourceImageId)).length;
        assert.equal(volumes, 1, "a one-volume source: one snapshot copy per CopyImage");
    });

    after(async function () {
        await emulator?.stop();
    });

    it("refuses a copy beyond the limit with EC2's ResourceLimitExceeded, per destination region, and frees the slot when a copy completes", async function () {
        const first = await copy(DESTINATION);
        await copy(DESTINATION);
        const refused = await errorOf(copy(DESTINATION));
        assert.equal(refused.name, "ResourceLimitExceeded");
        assert.equal(refused.status, 400);
        assert.equal(refused.message, "Too many snapshot copies in progress. The limit is 2 for this destination region.");
        // Another destination region has slots of its own.
        await copy(OTHER);
        // A repeated ClientToken starts nothing new: answered with the first copy, not refused.
        const token = uniqueName("token");
        await emulator.configure({ copyLimit: 3 });
        const once = await copy(DESTINATION, { ClientToken: token, Name: "token-copy-" + token });
        assert.equal((await errorOf(copy(DESTINATION))).name, "ResourceLimitExceeded");
        const again = await copy(DESTINATION, { ClientToken: token, Name: "token-copy-" + token });
        assert.equal(again.ImageId, once.ImageId);
        // Once the first copy's snapshot has completed, its slot is free again.
        await waitForImageState(emulator.ec2(DESTINATION), first.ImageId!, ["available"]);
        await copy(DESTINATION);
        const { calls } = await emulator.calls();
        assert.equal(calls.filter((c) => c.action === "CopyImage" && c.status === 400).length, 2, "the two refusals are in the call log");
    });

    it("is configurable through the control API (null: no limit) and back to the start-up limit after a reset", async function () {
        await emulator.configure({ copyLimit: null });
        const region = "sa-east-1";
        for (let i = 0; i < 4; i++) await copy(region);
        const config = (await (await fetch(`${emulator.endpoint}/_golden-ami/config`)).json()) as { copyLimit: number | null };
        assert.equal(config.copyLimit, null);
        const bad = await fetch(`${emulator.endpoint}/_golden-ami/config`, { method: "POST", body: JSON.stringify({ copyLimit: 0 }) });
        assert.equal(bad.status, 400);
        assert.match(((await bad.json()) as { error: string }).error, /copyLimit must be an integer >= 1/);
        await emulator.reset();
        const after = (await (await fetch(`${emulator.endpoint}/_golden-ami/config`)).json()) as { copyLimit: number | null };
        assert.equal(after.copyLimit, 2);
    });
});
