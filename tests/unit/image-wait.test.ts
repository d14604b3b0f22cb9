// Image waits: completion predicted from snapshot progress, snapshots described only when
// that says something new, and concurrent waits of one region served by shared calls.
import * as assert from "node:assert/strict";
import { IMAGE_RECHECK_MS, ImageWait } from "../../providers/ec2/image-judge";
import { waitForImage } from "../../providers/ec2/image-wait";
import { WaitFailedError } from "../../providers/ec2/waiter";
import { awsError, countByAction, FakeClock, RecordedCall, stubEc2 } from "../support/fakes";

const REGION = "us-east-1";
const START = Date.UTC(2026, 0, 1);

interface TimedEc2Options {
    /** The snapshots start this long after START (StartTime says so). */
    startOffsetMs?: number;
    /** StartTime truncated to the second instead of to the millisecond. */
    wholeSeconds?: boolean;
    /** The description search finds the snapshots (default true). */
    searchable?: boolean;
    /** From this many seconds on the image is `failed`; its snapshots stay pending, or vanish. */
    failAtS?: number;
    snapshotsVanishOnFailure?: boolean;
    /** The image becomes available this many seconds after its snapshots completed. */
    imageLagS?: number;
    /** Until this many seconds, the snapshots do not exist yet and the image lists none (a fresh copy). */
    snapshotsFromS?: number;
}

/**
 * EC2 where image i (ami-…i) and its one snapshot complete `durations[i]` seconds after they
 * start, progress linear. StartTime to the millisecond (as EC2 reports it) unless `wholeSeconds`.
 */
function timedEc2(clock: FakeClock, durations: Record<string, number>, options: TimedEc2Options = {}) {
    const { startOffsetMs = 0, wholeSeconds = false, searchable = true, failAtS, snapshotsVanishOnFailure = false, imageLagS = 0, snapshotsFromS = 0 } = options;
    const snapshotOf = (imageId: string) => imageId.replace("ami-", "snap-");
    const startedAt = START + startOffsetMs;
    const doneAt = (id: string) => startedAt + durations[id] * 1000;
    const failed = (now: number) => failAtS !== undefined && now >= startedAt + failAtS * 1000;
    const exist = (now: number) => now >= startedAt + snapshotsFromS * 1000;
    const snapshot = (imageId: string, now: number) => {
        const fraction = failed(now) ? 0.4 : Math.max(0, Math.min(1, (now - startedAt) / (doneAt(imageId) - startedAt)));
        return {
            SnapshotId: snapshotOf(imageId),
            Description: `Created by CreateImage(i-0123) for ${imageId} from vol-0123`,
            StartTime: new Date(wholeSeconds ? Math.floor(startedAt / 1000) * 1000 : startedAt),
            State: fraction >= 1 ? "completed" : "pending",
            Progress: `${Math.floor(fraction * 100)}%`,
        };
    };
    return stubEc2(REGION, (action, input) => {
        const now = clock.now();
        if (action === "DescribeImages") {
            return {
                Images: (input.ImageIds as string[]).map((id) => ({
                    ImageId: id,
                    State: failed(now) ? "failed" : now >= doneAt(id) + imageLagS * 1000 ? "available" : "pending",
                    StateReason: failed(now) ? { Code: "Server.InternalError", Message: "internal error" } : undefined,
                    BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: exist(now) ? { SnapshotId: snapshotOf(id) } : {} }],
                })),
            };
        }
        if (action === "DescribeSnapshots" && input.Filters) {
            // The description search: the patterns name the images.
            assert.deepEqual(input.OwnerIds, ["self"]);
            const wanted = searchable && exist(now) ? Object.keys(durations).filter((id) => JSON.stringify(input.Filters).includes(id)) : [];
            return { Snapshots: wanted.map((id) => snapshot(id, now)) };
        }
        if (action === "DescribeSnapshots") {
            if (snapshotsVanishOnFailure && failed(now)) throw awsError("InvalidSnapshot.NotFound", "The snapshot does not exist.");
            return { Snapshots: (input.SnapshotIds as string[]).map((sid) => snapshot(sid.replace("snap-", "ami-"), now)) };
        }
        throw new Error(`unexpected ${action}`);
    });
}

/** The calls as short words: search (DescribeSnapshots by description), snapshots, image. */
function kinds(calls: RecordedCall[]): string[] {
    return calls.map((c) => (c.action === "DescribeSnapshots" ? (c.input.Filters ? "search" : "snapshots") : "image"));
}

describe("image waits", function () {
    let clock: FakeClock;
    let undo: Array<() => void> = [];
    beforeEach(() => {
        clock = new FakeClock(START);
        undo = [];
    });
    afterEach(() => {
        for (const u of undo.reverse()) u();
    });

    // Fixed 5 s polling makes seconds/5 DescribeImages; golden-ami spends at most a third of
    // that from a one-minute wait on (at 10 s, a third of 2 is less than the one call any
    // confirmation needs: there it makes 3). With a whole-second StartTime, one more look.
    const cases: Array<[number, number, boolean]> = [
        [10, 3, false], [60, 60 / 5 / 3, false], [600, 600 / 5 / 3, false],
        [10, 4, true], [60, 60 / 5 / 3 + 1, true], [600, 600 / 5 / 3, true],
    ];
    for (const [seconds, maxCalls, wholeSeconds] of cases) {
        // A millisecond StartTime on a whole second would be taken as truncated: avoid .000 there.
        for (const offset of wholeSeconds ? [0, 400, 900] : [1, 437, 913]) {
            const where = `${wholeSeconds ? "whole-second" : "millisecond"} StartTime, started ${offset} ms into a second`;
            it(`a ${seconds} s image (${where}): noticed within 2 s, with at most ${maxCalls} Describe calls`, async () => {
                const stub = timedEc2(clock, { "ami-00000001": seconds }, { startOffsetMs: offset, wholeSeconds });
                undo.push(stub.restore);
                clock.time = START + offset;
                await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000, clock });
                const latency = clock.now() - (START + offset + seconds * 1000);
                assert.ok(latency >= 0 && latency <= 2_000, `noticed ${latency} ms after completion`);
                const calls = countByAction(stub.calls);
                const describes = (calls.DescribeImages ?? 0) + (calls.DescribeSnapshots ?? 0);
                assert.ok(describes <= maxCalls, `${describes} Describe calls (${JSON.stringify(calls)}); fixed 5 s polling: ${seconds / 5}`);
            });
        }
    }

    it("the first look finds the snapshots by description; pending looks describe only them; the image once, at the end", async () => {
        const stub = timedEc2(clock, { "ami-00000001": 60 });
        undo.push(stub.restore);
        const observation = await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000, clock });
        assert.equal(observation.image?.State, "available");
        const seen = kinds(stub.calls);
        assert.equal(seen[0], "search");
        assert.deepEqual(seen.filter((k) => k === "image"), ["image"], seen.join(" "));
        assert.deepEqual(seen.slice(-2), ["snapshots", "image"], "the snapshots seen completed, then the image confirms");
        assert.deepEqual(stub.calls[0].input.Filters, [
            { Name: "description", Values: ["Created by CreateImage(*) for ami-00000001*", "Copied for DestinationAmi ami-00000001 *"] },
        ]);
    });

    it("an image that turns available after its snapshots completed: later looks describe only the image; the result still has the snapshots", async () => {
        const stub = timedEc2(clock, { "ami-00000001": 30 }, { imageLagS: 5 });
        undo.push(stub.restore);
        const observation = await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000, clock });
        const seen = kinds(stub.calls);
        const lastSnapshots = seen.lastIndexOf("snapshots");
        assert.ok(seen.slice(lastSnapshots + 1).length >= 2 && seen.slice(lastSnapshots + 1).every((k) => k === "image"), seen.join(" "));
        assert.deepEqual(observation.snapshots.map((s) => [s.SnapshotId, s.State]), [["snap-00000001", "completed"]]);
        assert.ok(clock.now() - (START + 35_000) <= 2_000 && clock.now() >= START + 35_000);
    });

    it("a copy whose snapshots appear only later: looks search for them until found, then follow their progress", async () => {
        const stub = timedEc2(clock, { "ami-00000001": 120 }, { snapshotsFromS: 20 });
        undo.push(stub.restore);
        const observation = await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000, clock });
        assert.equal(observation.snapshots.length, 1);
        const seen = kinds(stub.calls);
        const found = seen.lastIndexOf("search");
        assert.ok(found > 0, `searched more than once: ${seen.join(" ")}`);
        assert.ok(seen.slice(found + 1).filter((k) => k === "image").length === 1, `after the snapshots were found, the image once: ${seen.join(" ")}`);
        assert.ok(clock.now() - (START + 120_000) <= 2_000, `noticed ${clock.now() - START - 120_000} ms late: ${seen.join(" ")}`);
    });

    it("when the search finds nothing (an image not made by CreateImage/CopyImage), the image gives the snapshots", async () => {
        const stub = timedEc2(clock, { "ami-00000001": 30 }, { searchable: false });
        undo.push(stub.restore);
        await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000, clock });
        assert.deepEqual(kinds(stub.calls).slice(0, 3), ["search", "image", "snapshots"]);
        assert.ok(clock.now() - START - 30_000 <= 2_000, `noticed ${clock.now() - START - 30_000} ms late`);
    });

    it(`while snapshots stay pending the image is described again once ${IMAGE_RECHECK_MS / 60_000} min have passed, so a failed image is noticed`, async () => {
        const stub = timedEc2(clock, { "ami-00000001": 3_600 }, { failAtS: 300 });
        undo.push(stub.restore);
        const err = await waitForImage(REGION, "ami-00000001", { timeoutMs: 7_200_000, clock }).catch((e) => e);
        assert.ok(err instanceof WaitFailedError, String(err));
        assert.match(err.message, /ami-00000001 is failed: internal error/);
        // Noticed at the first look after the recheck is due; looks are at most 10 min apart.
        const late = clock.now() - (START + 300_000);
        assert.ok(late >= 0 && late <= IMAGE_RECHECK_MS + 10 * 60_000, `noticed ${late} ms after the failure`);
        const imageLooks = stub.calls.filter((c) => c.action === "DescribeImages").length;
        assert.ok(imageLooks >= 1 && stub.calls.length > imageLooks + 1, `${imageLooks} image looks of ${stub.calls.length}`);
    });

    it("a snapshot that vanishes (deleted with its failed image) makes the next look describe the image", async () => {
        const stub = timedEc2(clock, { "ami-00000001": 600 }, { failAtS: 30, snapshotsVanishOnFailure: true });
        undo.push(stub.restore);
        const err = await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000, clock }).catch((e) => e);
        assert.ok(err instanceof WaitFailedError, String(err));
        assert.match(err.message, /ami-00000001 is failed/);
        assert.equal(kinds(stub.calls).at(-1), "image", "the image said why");
        assert.ok(clock.now() - (START + 30_000) <= 10 * 60_000, "at the next look");
    });

    it("looks requested together are served by one DescribeImages for all the images", async () => {
        const ids = ["ami-00000001", "ami-00000002", "ami-00000003", "ami-00000004", "ami-00000005"];
        const single = timedEc2(clock, { "ami-00000001": 120 }, { startOffsetMs: 137 });
        await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000, clock });
        const alone = single.calls.length;
        single.restore();

        clock.time = START;
        const stub = timedEc2(clock, Object.fromEntries(ids.map((id) => [id, 120])), { startOffsetMs: 137 });
        undo.push(stub.restore);
        await Promise.all(ids.map((id) => waitForImage(REGION, id, { timeoutMs: 3_600_000, clock })));
        assert.ok(stub.calls.length <= alone + 2, `5 images made ${stub.calls.length} calls, 1 image ${alone}`);
        const batched = stub.calls.filter((c) => c.action === "DescribeImages" && (c.input.ImageIds as string[]).length === ids.length);
        assert.ok(batched.length >= 1, "DescribeImages asked for all five at once");
    });

    it("snapshots without a StartTime: completion is predicted from the rate between two looks", () => {
        const wait = new ImageWait("ami-00000001");
        const image = { ImageId: "ami-00000001", State: "pending" as const, BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: "snap-1" } }] };
        const look = (progress: string) => ({ image, snapshots: [{ SnapshotId: "snap-1", State: "pending" as const, Progress: progress }] });
        assert.equal(wait.judge(look("10%"), START).state, "pending");
        const second = wait.judge(look("20%"), START + 10_000);
        // 10-11% and 20-21%: 0.9-1.1 %/s, 79-80% to go → 100% between 81.8 s and 98.9 s; steady: 90 s.
        assert.ok(second.state === "pending" && second.expectedAt !== undefined && second.expectedBy !== undefined, JSON.stringify(second));
        assert.ok(Math.abs(second.expectedAt - (START + 10_000 + 79_000 / 1.1)) < 1, JSON.stringify(second));
        assert.ok(Math.abs(second.expectedBy - (START + 10_000 + 80_000 / 0.9)) < 1, JSON.stringify(second));
    });
});
