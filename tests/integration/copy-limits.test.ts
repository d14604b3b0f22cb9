// Many ImageCopy creates into one region against the emulator's limit of snapshot copies in
// flight (tests/emulator/ext_copy_limits.py): golden-ami's copy slots keep every copy within the
// limit (0 ResourceLimitExceeded, from the call log), and when its own limit is set above EC2's
// (copies it does not know of), ResourceLimitExceeded is retried until every copy is made.
import * as assert from "node:assert/strict";
import { CreateImageCommand } from "@aws-sdk/client-ec2";
import { realClock } from "../../providers/core/context";
import { setConfiguredRegion } from "../../providers/core/region";
import { resetClients } from "../../providers/ec2/client";
import { CopySlots } from "../../providers/lifecycle/copy-slots";
import { createProviders } from "../../providers/runtime";
import { Emulator, peakCopiesInFlight as peakInFlight } from "../support/emulator";

const SOURCE_REGION = "us-east-1";
const REGION = "ap-northeast-1";
const COPY_SECONDS = 1.5;
const LIMIT = 3;
const COPIES = 9;

describe("integration: copies under EC2's copy limit (emulator)", function () {
    let emulator: Emulator;
    let savedEnv: NodeJS.ProcessEnv;
    let sourceImageId: string;
    let run = 0;

    before(async function () {
        emulator = await Emulator.start({ timing: { copyPending: COPY_SECONDS }, copyLimit: LIMIT });
        savedEnv = { ...process.env };
        Object.assign(process.env, emulator.env(SOURCE_REGION));
        setConfiguredRegion(undefined);
        resetClients();
        const instanceId = await emulator.launchInstance(SOURCE_REGION);
        sourceImageId = (await emulator.ec2(SOURCE_REGION).send(new CreateImageCommand({ InstanceId: instanceId, Name: `ga-limit-source-${Date.now()}` }))).ImageId!;
    });

    after(async function () {
        resetClients();
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        await emulator?.stop();
    });

    /** COPIES copies side by side, through check → create, with golden-ami's slots at `slots`; the call log of the run. */
    async function copies(slots: number, timeScale: number) {
        await emulator.resetCalls();
        const lines: string[] = [];
        const provider = createProviders({ clock: realClock, timeScale, progress: () => (l) => lines.push(l), copySlots: new CopySlots(slots) }).ImageCopy;
        run++;
        const made = await Promise.all(
            Array.from({ length: COPIES }, async (_, i) => {
                const news = { sourceImageId, sourceRegion: SOURCE_REGION, region: REGION, name: `ga-limit-${run}-${i}-${Date.now()}` };
                const { inputs, failures } = await provider.check!({}, news);
                assert.deepEqual(failures ?? [], []);
                return provider.create(inputs);
            }),
        );
        const log = await emulator.calls();
        return { made, lines, ...log };
    }

    it(`${COPIES} copies into one region with the limit at ${LIMIT}: all made, none refused, never more than ${LIMIT} in flight`, async function () {
        const { made, calls, images, lines } = await copies(LIMIT, 1);
        assert.equal(new Set(made.map((m) => m.id)).size, COPIES);
        const copyCalls = calls.filter((c) => c.action === "CopyImage" && c.region === REGION);
        assert.equal(copyCalls.filter((c) => c.status !== 200).length, 0, "no ResourceLimitExceeded");
        assert.equal(copyCalls.length, COPIES, "one CopyImage per copy");
        assert.equal(peakInFlight(images, REGION), LIMIT);
        assert.ok(lines.some((l) => l.startsWith(`waiting for a copy slot in ${REGION}`)), lines.join("\n"));
    });

    it("golden-ami's limit above EC2's: ResourceLimitExceeded is retried with backoff until every copy is made", async function () {
        // Retry delays compressed ×10 (5 s → 0.5 s), as the bench compresses every wait.
        const { made, calls, images, lines } = await copies(COPIES, 0.1);
        assert.equal(new Set(made.map((m) => m.id)).size, COPIES);
        const refused = calls.filter((c) => c.action === "CopyImage" && c.status === 400).length;
        assert.ok(refused > 0, "EC2 refused some (the slots let all start at once)");
        assert.equal(Object.values(images).filter((e) => e.kind === "copy").length, COPIES);
        assert.ok(peakInFlight(images, REGION) <= LIMIT);
        assert.ok(lines.includes(`waiting for a copy slot in ${REGION}: EC2 answered ResourceLimitExceeded, retrying`), lines.join("\n"));
    });
});
