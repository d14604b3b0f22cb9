// Labels changed by exactly the difference (providers/ec2/labels.ts): no call for a list of no
// resources, and failures that name what was being changed (mutation survivors).
import * as assert from "node:assert/strict";
import { updateImageLabels } from "../../providers/ec2/labels";
import { FakeEc2 } from "../support/fake-ec2";
import { awsError, rejection } from "../support/fakes";

const REGION = "us-east-1";
const IMAGE = "ami-0bbbbbbbbbbbbbbb2";
const DENIED = () => awsError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403);

describe("labels", function () {
    let ec2: FakeEc2;
    let restore: () => void;
    beforeEach(function () {
        ec2 = new FakeEc2([REGION]);
        ec2.seedImage({ id: IMAGE, name: "web", tags: { team: "old" } });
        restore = ec2.install();
    });
    afterEach(function () {
        restore();
    });

    it("snapshot tags of an image without snapshots: no call for them", async function () {
        await updateImageLabels(REGION, IMAGE, [], { snapshotTags: { a: "1" } }, { snapshotTags: { a: "2" } });
        assert.deepEqual(ec2.calls, []);
    });

    it("a failing description change names the image and region", async function () {
        ec2.fail("ModifyImageAttribute", DENIED());
        const err = await rejection(updateImageLabels(REGION, IMAGE, [], { description: "a" }, { description: "b" }));
        assert.match(err.message, new RegExp(`^golden-ami: changing the description of image ${IMAGE} in ${REGION} failed: UnauthorizedOperation`));
    });

    it("a failing tag change names every resource and the region", async function () {
        const image = ec2.images.get(IMAGE)!;
        ec2.fail("CreateTags", DENIED());
        const err = await rejection(updateImageLabels(REGION, IMAGE, image.snapshotIds, { snapshotTags: {} }, { snapshotTags: { a: "1" } }));
        assert.match(err.message, new RegExp(`^golden-ami: updating tags of ${image.snapshotIds.join(", ")} in ${REGION} failed: UnauthorizedOperation`));
    });
});
