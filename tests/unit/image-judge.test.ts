// The judge of one image wait (providers/ec2/image-judge.ts) on its own, look by look: every
// failed image state and snapshot error with its reason, the status line word for word, which
// calls the next look makes, and when a look that skipped the image may say "done" (mutation
// testing's survivors, docs/mutation-testing.md).
import * as assert from "node:assert/strict";
import type { Image, Snapshot } from "@aws-sdk/client-ec2";
import { IMAGE_RECHECK_MS, imageOfSnapshot, ImageWait } from "../../providers/ec2/image-judge";

const ID = "ami-0a000000000000001";
const T = Date.UTC(2026, 0, 1);
const image = (State: string | undefined, snapshots = ["snap-a", "snap-b"], extra: Partial<Image> = {}): Image =>
    ({ ImageId: ID, State: State as Image["State"], BlockDeviceMappings: snapshots.map((SnapshotId) => ({ DeviceName: "/dev/x", Ebs: { SnapshotId } })), ...extra });
const snap = (SnapshotId: string, State: string, Progress: string, extra: Partial<Snapshot> = {}): Snapshot => ({ SnapshotId, State: State as Snapshot["State"], Progress, ...extra });

describe("ImageWait (the judge of one image wait)", function () {
    describe("an image in a final bad state fails the wait, with EC2's reason", function () {
        for (const state of ["failed", "invalid", "error", "deregistered", "disabled"]) {
            it(`state ${state}`, function () {
                const verdict = new ImageWait(ID).judge({ image: image(state, [], { StateReason: { Code: "Client.X", Message: "it broke" } }), snapshots: [] }, T);
                assert.deepEqual(verdict, { state: "failed", reason: `image ${ID} is ${state}: it broke` });
            });
        }
        it("the reason's code when it has no message, and 'no reason given' without either", function () {
            assert.deepEqual(new ImageWait(ID).judge({ image: image("failed", [], { StateReason: { Code: "Client.X" } }), snapshots: [] }, T), { state: "failed", reason: `image ${ID} is failed: Client.X` });
            assert.deepEqual(new ImageWait(ID).judge({ image: image("failed", []), snapshots: [] }, T), { state: "failed", reason: `image ${ID} is failed: no reason given` });
        });
    });

    it("an image not visible yet is pending, saying so", function () {
        assert.deepEqual(new ImageWait(ID).judge({ image: undefined, snapshots: [] }, T), { state: "pending", status: "not visible yet" });
    });

    it("an image without a state is pending as 'unknown'", function () {
        const verdict = new ImageWait(ID).judge({ image: image(undefined, []), snapshots: [] }, T);
        assert.equal(verdict.state, "pending");
        assert.equal((verdict as { status: string }).status, "image unknown");
    });

    it("a snapshot in state error fails the wait, with its message or 'no reason given'", function () {
        const wait = new ImageWait(ID);
        const verdict = wait.judge({ image: image("pending"), snapshots: [snap("snap-a", "pending", "40%"), snap("snap-b", "error", "12%", { StateMessage: "disk gone" })] }, T);
        assert.deepEqual(verdict, { state: "failed", reason: `snapshot snap-b of image ${ID} is in state error: disk gone` });
        const bare = new ImageWait(ID).judge({ image: image("pending"), snapshots: [snap("snap-a", "error", "12%")] }, T);
        assert.deepEqual(bare, { state: "failed", reason: `snapshot snap-a of image ${ID} is in state error: no reason given` });
    });

    describe("the status line", function () {
        const status = (v: unknown) => (v as { status: string }).status;

        it("counts completed snapshots and names the slowest pending one's progress", function () {
            const v = new ImageWait(ID).judge({ image: image("pending", ["snap-a", "snap-b", "snap-c"]), snapshots: [snap("snap-a", "completed", "100%"), snap("snap-b", "pending", "60%"), snap("snap-c", "pending", "30%")] }, T);
            assert.equal(status(v), "image pending, snapshots 1/3 completed (slowest 30%)");
        });

        it("every snapshot completed while the image is pending", function () {
            const v = new ImageWait(ID).judge({ image: image("pending"), snapshots: [snap("snap-a", "completed", "100%"), snap("snap-b", "completed", "100%")] }, T);
            assert.equal(status(v), "image pending, snapshots 2/2 completed");
        });

        it("before the image was described (snapshots found by description): the image is 'pending'", function () {
            const v = new ImageWait(ID).judge({ imageObserved: false, snapshots: [snap("snap-a", "pending", "10%")] }, T);
            assert.equal(status(v), "image pending, snapshots 0/1 completed (slowest 10%)");
        });

        it("a look that skipped the snapshots keeps the last snapshot text; with none seen yet, there is none", function () {
            const wait = new ImageWait(ID);
            assert.equal(status(wait.judge({ image: image("pending"), snapshots: [], snapshotsObserved: false }, T)), "image pending");
            wait.judge({ image: image("pending"), snapshots: [snap("snap-a", "pending", "40%"), snap("snap-b", "pending", "50%")] }, T + 1000);
            assert.equal(status(wait.judge({ image: image("pending"), snapshots: [], snapshotsObserved: false }, T + 2000)), "image pending, snapshots 0/2 completed (slowest 40%)");
        });

        it("a look that misses one of the image's snapshots counts it as not completed, without failing", function () {
            const wait = new ImageWait(ID);
            const v = wait.judge({ image: image("pending"), snapshots: [snap("snap-a", "pending", "70%")] }, T);
            assert.equal(v.state, "pending");
            assert.equal(status(v), "image pending, snapshots 0/2 completed (slowest 0%)");
        });

        it("snapshots found by description do not replace the image's list on later looks", function () {
            const wait = new ImageWait(ID);
            wait.judge({ image: image("available"), snapshots: [snap("snap-a", "pending", "50%"), snap("snap-b", "pending", "50%")] }, T);
            const v = wait.judge({ imageObserved: false, snapshots: [snap("snap-a", "completed", "100%")] }, T + 1000);
            assert.equal(status(v), "image available, snapshots 1/2 completed (slowest 0%)", "snap-b still counted, unseen in this look");
        });
    });

    describe("done", function () {
        it("only from a look that saw the image: snapshots completing on a snapshots-only look is not yet done", function () {
            const wait = new ImageWait(ID);
            assert.equal(wait.judge({ image: image("available"), snapshots: [snap("snap-a", "pending", "50%"), snap("snap-b", "pending", "50%")] }, T).state, "pending");
            assert.equal(wait.judge({ imageObserved: false, snapshots: [snap("snap-a", "completed", "100%"), snap("snap-b", "completed", "100%")] }, T + 1000).state, "pending");
            assert.deepEqual(wait.judge({ image: image("available"), snapshots: [], snapshotsObserved: false }, T + 2000), { state: "done" });
        });

        it("not while one snapshot of an available image is pending", function () {
            const v = new ImageWait(ID).judge({ image: image("available"), snapshots: [snap("snap-a", "completed", "100%"), snap("snap-b", "pending", "90%")] }, T);
            assert.equal(v.state, "pending");
        });
    });

    describe("what the next look describes", function () {
        it("nothing known yet: search the snapshots, describe the image (snapshotsFirst undefined)", function () {
            const wait = new ImageWait(ID);
            assert.equal(wait.searchesSnapshots(), true);
            assert.equal(wait.snapshotsFirst(T), undefined);
        });

        it("snapshots pending: only them, until IMAGE_RECHECK_MS after the image was described (then the image, exactly at that time)", function () {
            const wait = new ImageWait(ID);
            wait.judge({ image: image("pending"), snapshots: [snap("snap-a", "completed", "100%"), snap("snap-b", "pending", "20%")] }, T);
            assert.deepEqual(wait.snapshotsFirst(T + IMAGE_RECHECK_MS - 1), ["snap-a", "snap-b"]);
            assert.equal(wait.snapshotsFirst(T + IMAGE_RECHECK_MS), undefined);
        });

        it("every snapshot completed: the image", function () {
            const wait = new ImageWait(ID);
            wait.judge({ image: image("pending"), snapshots: [snap("snap-a", "completed", "100%"), snap("snap-b", "completed", "100%")] }, T);
            assert.equal(wait.snapshotsFirst(T + 1), undefined);
        });

        it("after a snapshots-only look: the image too when none was found, one vanished or failed, or all completed", function () {
            const wait = new ImageWait(ID);
            const p = snap("snap-a", "pending", "5%");
            const c = snap("snap-b", "completed", "100%");
            assert.equal(wait.needsImageAfter([]), true);
            assert.equal(wait.needsImageAfter([undefined, p]), true);
            assert.equal(wait.needsImageAfter([snap("snap-a", "error", "5%"), p]), true);
            assert.equal(wait.needsImageAfter([c, c]), true);
            assert.equal(wait.needsImageAfter([c, p]), false);
            assert.equal(wait.needsImageAfter([p]), false);
        });

        it("with the image described: its snapshots too while it is pending or available and one of them is not completed", function () {
            const wait = new ImageWait(ID);
            assert.equal(wait.wantsSnapshots(undefined), false);
            assert.equal(wait.wantsSnapshots(image("failed")), false);
            assert.equal(wait.wantsSnapshots(image("pending")), true);
            assert.equal(wait.wantsSnapshots(image("available")), true);
            wait.judge({ image: image("pending"), snapshots: [snap("snap-a", "completed", "100%"), snap("snap-b", "pending", "20%")] }, T);
            assert.equal(wait.wantsSnapshots(image("available")), true, "snap-b is still pending");
            wait.judge({ image: image("pending"), snapshots: [snap("snap-b", "completed", "100%")] }, T + 1000);
            assert.equal(wait.wantsSnapshots(image("available")), false);
        });

        it("snapshotsOf: the image's snapshots as last seen, leaving out those never seen", function () {
            const wait = new ImageWait(ID);
            wait.judge({ image: image("pending"), snapshots: [snap("snap-a", "pending", "20%")] }, T);
            assert.deepEqual(wait.snapshotsOf(image("available")).map((s) => s.SnapshotId), ["snap-a"]);
        });
    });

    it("imageOfSnapshot: only a description that starts as EC2 writes it names the image", function () {
        assert.equal(imageOfSnapshot({ Description: `Created by CreateImage(i-1) for ${ID} from vol-1` }), ID);
        assert.equal(imageOfSnapshot({ Description: `Copied for DestinationAmi ${ID} from SourceAmi ami-1 for SourceSnapshot snap-1.` }), ID);
        assert.equal(imageOfSnapshot({ Description: `backup of: Created by CreateImage(i-1) for ${ID} from vol-1` }), undefined);
        assert.equal(imageOfSnapshot({ Description: "hand-made" }), undefined);
        assert.equal(imageOfSnapshot({}), undefined);
    });
});
