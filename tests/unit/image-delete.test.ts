// providers/ec2/image-delete.ts on its own: what a failed deregister or snapshot delete says,
// which failures are "already gone", and the snapshots it deletes when state names none.
import * as assert from "node:assert/strict";
import { deleteImageAndSnapshots, readDeregisteredImage } from "../../providers/ec2/image-delete";
import { FakeEc2 } from "../support/fake-ec2";
import { awsError, inputsOf, rejection } from "../support/fakes";

const REGION = "eu-west-1";

describe("image-delete (providers/ec2/image-delete.ts)", function () {
    let ec2: FakeEc2;
    let restore: () => void;
    beforeEach(() => {
        ec2 = new FakeEc2([REGION]);
        restore = ec2.install();
    });
    afterEach(() => restore());

    it("without snapshot IDs from state, deletes exactly the image's own snapshots", async function () {
        const image = ec2.seedImage({ id: "ami-0000000000000a001", name: "one" });
        await deleteImageAndSnapshots(REGION, image.id);
        assert.ok(image.deregistered);
        assert.deepEqual(inputsOf(ec2.calls, "DeleteSnapshot").map((i) => i.SnapshotId), image.snapshotIds);
        for (const id of image.snapshotIds) assert.ok(ec2.snapshots.get(id)!.deleted);
    });

    it("a failed deregister is thrown, naming the image and region, and no snapshot is deleted", async function () {
        const image = ec2.seedImage({ id: "ami-0000000000000a002", name: "two" });
        ec2.fail("DeregisterImage", awsError("UnauthorizedOperation", "You are not authorized to perform this operation."));
        const err = await rejection(deleteImageAndSnapshots(REGION, image.id));
        assert.match(err.message, /^golden-ami: deregistering image ami-0000000000000a002 in eu-west-1 failed: UnauthorizedOperation: You are not authorized/);
        assert.equal(inputsOf(ec2.calls, "DeleteSnapshot").length, 0);
    });

    it("an image gone between the look and the deregister is fine: its snapshots are still deleted", async function () {
        const image = ec2.seedImage({ id: "ami-0000000000000a003", name: "three" });
        ec2.fail("DeregisterImage", awsError("InvalidAMIID.NotFound", "The image id does not exist"));
        await deleteImageAndSnapshots(REGION, image.id);
        for (const id of image.snapshotIds) assert.ok(ec2.snapshots.get(id)!.deleted);
    });

    it("a failed snapshot delete is thrown, naming the snapshot, the image and the region", async function () {
        const image = ec2.seedImage({ id: "ami-0000000000000a004", name: "four" });
        ec2.fail("DeleteSnapshot", awsError("InvalidSnapshot.InUse", "The snapshot is currently in use"));
        const err = await rejection(deleteImageAndSnapshots(REGION, image.id));
        assert.match(err.message, new RegExp(`^golden-ami: deleting snapshot ${image.snapshotIds[0]} of image ami-0000000000000a004 in eu-west-1 failed: InvalidSnapshot.InUse: `));
    });

    it("a snapshot already gone is skipped and the next one is still deleted", async function () {
        const image = ec2.seedImage({ id: "ami-0000000000000a005", name: "five" });
        ec2.fail("DeleteSnapshot", awsError("InvalidSnapshot.NotFound", "The snapshot does not exist"));
        await deleteImageAndSnapshots(REGION, image.id);
        assert.equal(inputsOf(ec2.calls, "DeleteSnapshot").length, 2);
        assert.ok(ec2.snapshots.get(image.snapshotIds[1])!.deleted);
    });

    it("read of a deregistered image with no snapshot IDs in state drops it without asking EC2 about snapshots", async function () {
        assert.equal(await readDeregisteredImage(REGION, { state: "available" }), undefined);
        assert.equal(inputsOf(ec2.calls, "DescribeSnapshots").length, 0);
    });
});
