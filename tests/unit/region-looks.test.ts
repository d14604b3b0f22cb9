// providers/ec2/region-looks.ts: the per-region batcher of image-wait looks. Against a stubbed
// EC2 client that answers from a table of images and snapshots and records every call: looks
// queued together share their calls (one DescribeSnapshots by description, one by ID, one
// DescribeImages, one for snapshots just learned of), each wait gets its own observation, a
// failure rejects every look of the batch, and a later look is a new batch. The batcher's window
// is 0 ms here (the next macrotask), so no test waits on the clock.
import * as assert from "node:assert/strict";
import type { Image, Snapshot } from "@aws-sdk/client-ec2";
import { ImageWait, IMAGE_RECHECK_MS } from "../../providers/ec2/image-judge";
import { looksFor, RegionImageLooks } from "../../providers/ec2/region-looks";
import { awsError, RecordedCall, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const T0 = Date.UTC(2026, 5, 1);

describe("region image looks (providers/ec2/region-looks.ts)", function () {
    let calls: RecordedCall[];
    let restore: () => void;
    let images: Map<string, Image>;
    let snapshots: Map<string, Snapshot>;
    let failing: Error | undefined;

    const image = (id: string, state: string, snapshotIds: string[]): Image =>
        ({ ImageId: id, State: state as Image["State"], BlockDeviceMappings: snapshotIds.map((SnapshotId, i) => ({ DeviceName: `/dev/sd${"fgh"[i]}`, Ebs: { SnapshotId } })) });
    const snapshot = (id: string, imageId: string, state = "pending", progress = "10%"): Snapshot =>
        ({ SnapshotId: id, State: state as Snapshot["State"], Progress: progress, Description: `Created by CreateImage(i-0123) for ${imageId} from vol-1` });

    beforeEach(() => {
        images = new Map();
        snapshots = new Map();
        failing = undefined;
        const stub = stubEc2(REGION, (action, input) => {
            if (failing) throw failing;
            if (action === "DescribeImages") {
                const missing = (input.ImageIds as string[]).find((id) => !images.has(id));
                if (missing) throw awsError("InvalidAMIID.NotFound", `The image id '[${missing}]' does not exist`);
                return { Images: (input.ImageIds as string[]).map((id) => images.get(id)) };
            }
            if (input.SnapshotIds) return { Snapshots: (input.SnapshotIds as string[]).map((id) => snapshots.get(id)).filter(Boolean) };
            const patterns = (input.Filters[0].Values as string[]).map((p) => new RegExp(`^${p.replace(/[()]/g, "\\$&").replace(/\*/g, ".*")}$`));
            return { Snapshots: [...snapshots.values()].filter((s) => patterns.some((p) => p.test(s.Description!))) };
        });
        calls = stub.calls;
        restore = stub.restore;
    });
    afterEach(() => restore());

    const actions = () => calls.map((c) => (c.action === "DescribeSnapshots" ? (c.input.SnapshotIds ? `DescribeSnapshots ids=${c.input.SnapshotIds.join(",")}` : "DescribeSnapshots by description") : `DescribeImages ${c.input.ImageIds.join(",")}`));

    it("first looks of several images: one search by description; the image described only for the one with no snapshots found", async function () {
        images.set("ami-a", image("ami-a", "pending", ["snap-a1", "snap-a2"]));
        images.set("ami-b", image("ami-b", "pending", ["snap-b1"]));
        snapshots.set("snap-a1", snapshot("snap-a1", "ami-a"));
        snapshots.set("snap-a2", snapshot("snap-a2", "ami-a", "pending", "50%"));
        const looks = new RegionImageLooks(REGION, 0);
        const [a, b] = [new ImageWait("ami-a"), new ImageWait("ami-b")];
        const [oa, ob] = await Promise.all([looks.look(a, T0), looks.look(b, T0)]);
        assert.deepEqual(calls[0].input, {
            OwnerIds: ["self"],
            Filters: [{ Name: "description", Values: ["Created by CreateImage(*) for ami-a*", "Copied for DestinationAmi ami-a *", "Created by CreateImage(*) for ami-b*", "Copied for DestinationAmi ami-b *"] }],
        });
        // ami-b's snapshot was not found by description: the image is described, and the snapshot it lists (EC2 does not know it yet here).
        assert.deepEqual(actions(), ["DescribeSnapshots by description", "DescribeImages ami-b", "DescribeSnapshots ids=snap-b1"]);
        assert.deepEqual(oa, { image: undefined, imageObserved: false, snapshots: [snapshots.get("snap-a1"), snapshots.get("snap-a2")], snapshotsObserved: true });
        assert.deepEqual(ob, { image: images.get("ami-b"), imageObserved: true, snapshots: [], snapshotsObserved: true });
    });

    it("an image described: its snapshots not seen yet are described in the same look", async function () {
        images.set("ami-b", image("ami-b", "pending", ["snap-b1"]));
        const looks = new RegionImageLooks(REGION, 0);
        const wait = new ImageWait("ami-b");
        const first = looks.look(wait, T0);
        snapshots.set("snap-b1", { ...snapshot("snap-b1", "ami-b"), Description: "made by hand" }); // not found by description
        const o = await first;
        assert.deepEqual(actions(), ["DescribeSnapshots by description", "DescribeImages ami-b", "DescribeSnapshots ids=snap-b1"]);
        assert.deepEqual(o.snapshots.map((s) => s.SnapshotId), ["snap-b1"]);
        assert.equal(o.snapshotsObserved, true);
    });

    it("later looks of waits with pending snapshots: one DescribeSnapshots by ID for all, no DescribeImages", async function () {
        for (const id of ["ami-a", "ami-b"]) {
            images.set(id, image(id, "pending", [`snap-${id}`]));
            snapshots.set(`snap-${id}`, snapshot(`snap-${id}`, id));
        }
        const looks = new RegionImageLooks(REGION, 0);
        const waits = [new ImageWait("ami-a"), new ImageWait("ami-b")];
        // A first look at each image (judged), so the waits know their snapshots.
        const first = await Promise.all(waits.map((w) => looks.look(w, T0)));
        waits.forEach((w, i) => w.judge(first[i], T0));
        calls.length = 0;
        const later = await Promise.all(waits.map((w) => looks.look(w, T0 + 1000)));
        assert.deepEqual(actions(), ["DescribeSnapshots ids=snap-ami-a,snap-ami-b"]);
        assert.deepEqual(later.map((o) => [o.imageObserved, o.snapshotsObserved, o.snapshots.map((s) => s.SnapshotId)]), [
            [false, true, ["snap-ami-a"]],
            [false, true, ["snap-ami-b"]],
        ]);
    });

    it("snapshots all completed: the image is described to confirm, and its snapshots are not described again", async function () {
        images.set("ami-a", image("ami-a", "available", ["snap-a"]));
        snapshots.set("snap-a", snapshot("snap-a", "ami-a"));
        const looks = new RegionImageLooks(REGION, 0);
        const wait = new ImageWait("ami-a");
        wait.judge(await looks.look(wait, T0), T0);
        snapshots.set("snap-a", snapshot("snap-a", "ami-a", "completed", "100%"));
        calls.length = 0;
        const o = await looks.look(wait, T0 + 1000);
        assert.deepEqual(actions(), ["DescribeSnapshots ids=snap-a", "DescribeImages ami-a"]);
        assert.deepEqual(o, { image: images.get("ami-a"), imageObserved: true, snapshots: [snapshots.get("snap-a")], snapshotsObserved: true });
        assert.equal(wait.judge(o, T0 + 1000).state, "done");
        calls.length = 0;
        const again = await looks.look(wait, T0 + 2000);
        assert.deepEqual(actions(), ["DescribeImages ami-a"], "completed snapshots are final: the image alone");
        assert.deepEqual(again, { image: images.get("ami-a"), imageObserved: true, snapshots: [], snapshotsObserved: false });
    });

    it("past IMAGE_RECHECK_MS the image is described again, with its pending snapshots", async function () {
        images.set("ami-a", image("ami-a", "pending", ["snap-a"]));
        snapshots.set("snap-a", snapshot("snap-a", "ami-a"));
        const looks = new RegionImageLooks(REGION, 0);
        const wait = new ImageWait("ami-a");
        wait.judge(await looks.look(wait, T0), T0);
        calls.length = 0;
        const o = await looks.look(wait, T0 + IMAGE_RECHECK_MS);
        assert.deepEqual(actions(), ["DescribeImages ami-a", "DescribeSnapshots ids=snap-a"]);
        assert.deepEqual(o, { image: images.get("ami-a"), imageObserved: true, snapshots: [snapshots.get("snap-a")], snapshotsObserved: true });
    });

    it("an image not visible yet beside one that is: the other is still answered (one by one)", async function () {
        images.set("ami-b", image("ami-b", "pending", []));
        const looks = new RegionImageLooks(REGION, 0);
        const [oa, ob] = await Promise.all([looks.look(new ImageWait("ami-a"), T0), looks.look(new ImageWait("ami-b"), T0)]);
        assert.deepEqual(oa, { image: undefined, imageObserved: true, snapshots: [], snapshotsObserved: true });
        assert.equal(ob.image?.ImageId, "ami-b");
        assert.equal(ob.snapshotsObserved, true);
    });

    it("a failed image's snapshots are not described", async function () {
        images.set("ami-a", image("ami-a", "failed", ["snap-a"]));
        snapshots.set("snap-a", { ...snapshot("snap-a", "ami-a"), Description: "by hand" });
        const o = await new RegionImageLooks(REGION, 0).look(new ImageWait("ami-a"), T0);
        assert.deepEqual(actions(), ["DescribeSnapshots by description", "DescribeImages ami-a"]);
        assert.deepEqual(o.snapshots, []);
    });

    it("a failed call rejects every look of the batch with its error; the next look is a batch of its own", async function () {
        failing = awsError("UnauthorizedOperation", "no");
        const looks = new RegionImageLooks(REGION, 0);
        const results = await Promise.all([rejection(looks.look(new ImageWait("ami-a"), T0)), rejection(looks.look(new ImageWait("ami-b"), T0))]);
        assert.deepEqual(results.map((e) => e.message), ["no", "no"]);
        assert.equal(calls.length, 1);
        failing = undefined;
        images.set("ami-a", image("ami-a", "pending", []));
        const o = await looks.look(new ImageWait("ami-a"), T0);
        assert.equal(o.image?.ImageId, "ami-a");
    });

    it("looks queued apart in time are separate batches", async function () {
        images.set("ami-a", image("ami-a", "pending", []));
        const looks = new RegionImageLooks(REGION, 0);
        await looks.look(new ImageWait("ami-a"), T0);
        const n = calls.length;
        await looks.look(new ImageWait("ami-a"), T0);
        assert.equal(calls.length, 2 * n);
    });

    it("looksFor: one batcher per region", function () {
        assert.equal(looksFor(REGION), looksFor(REGION));
        assert.notEqual(looksFor(REGION), looksFor("us-east-1"));
        assert.ok(looksFor("ap-south-1") instanceof RegionImageLooks);
    });
});
