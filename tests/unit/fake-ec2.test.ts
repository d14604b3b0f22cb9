// The fake EC2 itself, where the unit tier's trust in it rests on EC2's own rules: CopyImage's
// ClientToken idempotency (none without a token), and snapshots found by their description.
import * as assert from "node:assert/strict";
import { snapshotDescriptionPatterns } from "../../providers/ec2/image-judge";
import { FakeEc2 } from "../support/fake-ec2";

const SOURCE_REGION = "us-east-1";
const REGION = "eu-west-1";
const SOURCE = "ami-0123456789abcdef0";

function withSource(): FakeEc2 {
    const ec2 = new FakeEc2([REGION, SOURCE_REGION]);
    ec2.seedImage({ id: SOURCE, region: SOURCE_REGION, name: "source-image" });
    return ec2;
}
const request = (over: Record<string, unknown> = {}) => ({ SourceImageId: SOURCE, SourceRegion: SOURCE_REGION, Name: "copy-a", ...over });
const copyId = (ec2: FakeEc2, region: string, input: Record<string, unknown>) => (ec2.handle(region, "CopyImage", input) as { ImageId: string }).ImageId;

describe("fake EC2: CopyImage ClientToken", function () {
    it("no token: every call is a new request (a second copy, under another name; the same name is a duplicate)", function () {
        const ec2 = withSource();
        const first = copyId(ec2, REGION, request());
        const second = copyId(ec2, REGION, request({ Name: "copy-b" }));
        assert.notEqual(second, first);
        assert.equal(ec2.copies().length, 2);
        assert.throws(() => copyId(ec2, REGION, request()), /InvalidAMIName\.Duplicate|already in use/);
        assert.equal(ec2.tokens.size, 0, "nothing remembered without a token");
    });

    it("no token while the name index lags: a second copy of the same name", function () {
        const ec2 = withSource();
        ec2.hiddenByName = 1;
        assert.notEqual(copyId(ec2, REGION, request()), copyId(ec2, REGION, request()));
        assert.equal(ec2.copies().length, 2);
    });

    it("the same token and request in the same region: the same copy, also after it is gone", function () {
        const ec2 = withSource();
        const first = copyId(ec2, REGION, request({ ClientToken: "t1" }));
        assert.equal(copyId(ec2, REGION, request({ ClientToken: "t1" })), first);
        ec2.images.get(first)!.deregistered = true;
        assert.equal(copyId(ec2, REGION, request({ ClientToken: "t1" })), first);
        assert.equal(ec2.copies().length, 1);
    });

    it("the same token with another request: IdempotentParameterMismatch; in another region: a new copy", function () {
        const ec2 = withSource();
        copyId(ec2, REGION, request({ ClientToken: "t1" }));
        assert.throws(() => copyId(ec2, REGION, request({ ClientToken: "t1", Name: "copy-b" })), /inconsistent/);
        const elsewhere = copyId(ec2, SOURCE_REGION, request({ ClientToken: "t1" }));
        assert.equal(ec2.images.get(elsewhere)!.region, SOURCE_REGION);
        assert.equal(ec2.copies().length, 2);
    });
});

describe("fake EC2: DescribeSnapshots by description", function () {
    it("finds the snapshots CreateImage and CopyImage made for an image, by golden-ami's patterns, and only those", function () {
        const ec2 = withSource();
        ec2.seedInstance({ id: "i-0123456789abcdef0", region: REGION });
        const made = (ec2.handle(REGION, "CreateImage", { InstanceId: "i-0123456789abcdef0", Name: "made" }) as { ImageId: string }).ImageId;
        const copied = copyId(ec2, REGION, request({ ClientToken: "t" }));
        const find = (imageId: string) =>
            (ec2.handle(REGION, "DescribeSnapshots", { OwnerIds: ["self"], Filters: [{ Name: "description", Values: snapshotDescriptionPatterns(imageId) }] }) as { Snapshots: Array<{ SnapshotId: string; Description: string }> }).Snapshots;
        assert.deepEqual(find(made).map((s) => s.SnapshotId), ec2.images.get(made)!.snapshotIds);
        assert.match(find(made)[0].Description, new RegExp(`^Created by CreateImage\\(i-0123456789abcdef0\\) for ${made} from vol-`));
        assert.deepEqual(find(copied).map((s) => s.SnapshotId), ec2.images.get(copied)!.snapshotIds);
        assert.match(find(copied)[0].Description, new RegExp(`^Copied for DestinationAmi ${copied} from SourceAmi ${SOURCE} `));
        assert.deepEqual(find("ami-0ffffffffffffffff"), []);
    });
});
