// Image waits in real time against the emulator: concurrent waits of one region wake on the
// same grid and share their Describe calls; completion is noticed promptly.
import * as assert from "node:assert/strict";
import { CreateImageCommand } from "@aws-sdk/client-ec2";
import { resetClients } from "../../providers/ec2/client";
import { waitForImage } from "../../providers/ec2/image-wait";
import { Emulator } from "../support/emulator";

const REGION = "us-east-1";

describe("integration: image waits against the emulator", function () {
    let emulator: Emulator;
    let saved: NodeJS.ProcessEnv;

    before(async () => {
        emulator = await Emulator.start({ timing: { imagePending: 8 } });
        saved = { ...process.env };
        Object.assign(process.env, emulator.env(REGION));
        resetClients();
    });
    after(async () => {
        process.env = saved;
        resetClients();
        await emulator?.stop();
    });

    /**
     * `count` images made at the same moment: the instances are launched first, then every
     * CreateImage is sent at once. (Made one after another, launch included, a busy machine
     * spread the five over several seconds, so they completed seconds apart.)
     */
    async function createImages(count: number): Promise<string[]> {
        const instanceIds = await Promise.all(Array.from({ length: count }, () => emulator.launchInstance(REGION)));
        const stamp = `${process.pid}-${Date.now()}`;
        return Promise.all(instanceIds.map(async (instanceId, i) =>
            (await emulator.ec2(REGION).send(new CreateImageCommand({ InstanceId: instanceId, Name: `wait-${stamp}-${i}` }))).ImageId!));
    }

    async function describeCallsSince(since: number): Promise<number> {
        return (await emulator.calls()).calls.filter((c) => c.at >= since && (c.action === "DescribeImages" || c.action === "DescribeSnapshots")).length;
    }

    it("notices an 8 s image within 2 s of it becoming available", async () => {
        const [id] = await createImages(1);
        await waitForImage(REGION, id, { timeoutMs: 60_000 });
        const returned = Date.now();
        const { images } = await emulator.calls();
        const latency = returned - images[id].availableAt;
        assert.ok(latency >= 0 && latency < 2_000, `noticed ${latency} ms after availability`);
    });

    it("five images waiting side by side cost about what one costs", async () => {
        const [single] = await createImages(1);
        const t1 = Date.now();
        await waitForImage(REGION, single, { timeoutMs: 60_000 });
        const alone = await describeCallsSince(t1);

        const five = await createImages(5);
        const t5 = Date.now();
        await Promise.all(five.map((id) => waitForImage(REGION, id, { timeoutMs: 60_000 })));
        const together = await describeCallsSince(t5);
        console.log(`      Describe calls: one image ${alone}, five images side by side ${together}`);
        assert.ok(together <= alone * 2, `five images: ${together} Describe calls; one image: ${alone}`);
    });
});
