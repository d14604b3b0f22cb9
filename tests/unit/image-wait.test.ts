// Image waits: completion predicted from snapshot progress, snapshots described only when
// that says something new, and concurrent waits of one region served by shared calls.
import * as assert from "node:assert/strict";
import { ImageWait, waitForImage } from "../../providers/ec2/images";
import { countByAction, FakeClock, stubEc2 } from "../support/fakes";

const REGION = "us-east-1";
const START = Date.UTC(2026, 0, 1);

/**
 * EC2 where image i (ami-…i) and its one snapshot complete `durationS` seconds after they
 * start, progress linear. They start `startOffsetMs` after START, while StartTime says START:
 * EC2 truncates StartTime to the whole second.
 */
function timedEc2(clock: FakeClock, durations: Record<string, number>, startOffsetMs = 0) {
    const snapshotOf = (imageId: string) => imageId.replace("ami-", "snap-");
    const startedAt = START + startOffsetMs;
    const doneAt = (id: string) => startedAt + durations[id] * 1000;
    return stubEc2(REGION, (action, input) => {
        const now = clock.now();
        if (action === "DescribeImages") {
            return {
                Images: (input.ImageIds as string[]).map((id) => ({
                    ImageId: id,
                    State: now >= doneAt(id) ? "available" : "pending",
                    BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotOf(id) } }],
                })),
            };
        }
        if (action === "DescribeSnapshots") {
            return {
                Snapshots: (input.SnapshotIds as string[]).map((sid) => {
                    const id = sid.replace("snap-", "ami-");
                    const fraction = Math.max(0, Math.min(1, (now - startedAt) / (doneAt(id) - startedAt)));
                    return {
                        SnapshotId: sid,
                        StartTime: new Date(START),
                        State: fraction >= 1 ? "completed" : "pending",
                        Progress: `${Math.floor(fraction * 100)}%`,
                    };
                }),
            };
        }
        throw new Error(`unexpected ${action}`);
    });
}

describe("image waits", function () {
    let clock: FakeClock;
    let undo: Array<() => void> = [];
    beforeEach(() => {
        clock = new FakeClock(START);
        undo = [clock.install()];
    });
    afterEach(() => {
        for (const u of undo.reverse()) u();
    });

    // Fixed 5 s polling makes seconds/5 DescribeImages. The estimate is the earliest plausible
    // completion (latency first), which costs a few looks that refine it: a third of fixed
    // polling's calls for long waits, two thirds for a one-minute wait.
    for (const [seconds, share, offset] of [[60, 2 / 3, 0], [600, 1 / 3, 0], [60, 2 / 3, 900], [600, 1 / 3, 900]]) {
        const shareText = share < 0.5 ? "a third" : "two thirds";
        const where = offset ? ` (StartTime truncated by ${offset} ms)` : "";
        it(`a ${seconds} s image${where}: noticed within 2 s, with at most ${shareText} of the calls of fixed 5 s polling`, async () => {
            const stub = timedEc2(clock, { "ami-00000001": seconds }, offset);
            undo.push(stub.restore);
            await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000 });
            const latency = clock.now() - (START + offset + seconds * 1000);
            assert.ok(latency >= 0 && latency <= 2_000, `noticed ${latency} ms after completion`);
            const calls = countByAction(stub.calls);
            const describes = (calls.DescribeImages ?? 0) + (calls.DescribeSnapshots ?? 0);
            assert.ok(describes <= (seconds / 5) * share, `${describes} Describe calls (${JSON.stringify(calls)}) for ${seconds / 5} of 5 s polling`);
        });
    }

    it("looks requested together are served by one DescribeImages for all the images", async () => {
        const ids = ["ami-00000001", "ami-00000002", "ami-00000003", "ami-00000004", "ami-00000005"];
        const single = timedEc2(clock, { "ami-00000001": 120 });
        await waitForImage(REGION, "ami-00000001", { timeoutMs: 3_600_000 });
        const alone = single.calls.length;
        single.restore();

        clock.time = START;
        const stub = timedEc2(clock, Object.fromEntries(ids.map((id) => [id, 120])));
        undo.push(stub.restore);
        await Promise.all(ids.map((id) => waitForImage(REGION, id, { timeoutMs: 3_600_000 })));
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
        assert.ok(second.state === "pending" && second.expectedAt === START + 90_000, JSON.stringify(second));
    });
});
