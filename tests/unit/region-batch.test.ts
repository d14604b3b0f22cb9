// providers/ec2/region-batch.ts through its users: look-ups by name (images.ts) and by lineage
// (lineage.ts) asked for side by side in one region share one Describe call, each caller
// getting only its own items, its own copy of them, and its own error.
import * as assert from "node:assert/strict";
import { findOwnImagesByName } from "../../providers/ec2/images";
import { lineageImages, lineageSnapshots } from "../../providers/ec2/lineage";
import { awsError, inputsOf, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const LINEAGE_TAG = "golden-ami:lineage";

/** A stub that answers a filtered Describe as EC2 does: only the items whose name or lineage tag is among the filter's values. */
function filtering(images: Array<Record<string, any>>, snapshots: Array<Record<string, any>> = []) {
    const matches = (item: Record<string, any>, filter: { Name: string; Values: string[] }) =>
        filter.Name === "name" ? filter.Values.includes(item.Name) : filter.Values.includes((item.Tags ?? []).find((t: any) => `tag:${t.Key}` === filter.Name)?.Value);
    return stubEc2([REGION, "us-east-1"], (action, input) => {
        const filter = input.Filters[0];
        if (action === "DescribeImages") return { Images: images.filter((i) => matches(i, filter)) };
        if (action === "DescribeSnapshots") return { Snapshots: snapshots.filter((s) => matches(s, filter)) };
        throw new Error(`unexpected ${action}`);
    });
}

const ofLineage = (lineage: string) => [{ Key: LINEAGE_TAG, Value: lineage }];

describe("region batching of look-ups (providers/ec2/region-batch.ts)", function () {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());

    it("name look-ups side by side: one DescribeImages for every name, each caller its own images", async function () {
        const stub = filtering([
            { ImageId: "ami-a", Name: "a", State: "available" },
            { ImageId: "ami-b", Name: "b", State: "available" },
        ]);
        restore = stub.restore;
        const [a, b, c] = await Promise.all(["a", "b", "c"].map((n) => findOwnImagesByName(REGION, n)));
        assert.deepEqual([a, b, c].map((l) => l.map((i) => i.ImageId)), [["ami-a"], ["ami-b"], []]);
        assert.deepEqual(inputsOf(stub.calls, "DescribeImages"), [{ Owners: ["self"], Filters: [{ Name: "name", Values: ["a", "b", "c"] }] }]);
    });

    it("lineage look-ups side by side: one DescribeImages and one DescribeSnapshots per region, deregistered images left out", async function () {
        const stub = filtering(
            [
                { ImageId: "ami-1", State: "available", Tags: ofLineage("l1") },
                { ImageId: "ami-2", State: "deregistered", Tags: ofLineage("l1") },
                { ImageId: "ami-3", State: "available", Tags: ofLineage("l2") },
            ],
            [{ SnapshotId: "snap-1", Tags: ofLineage("l2") }],
        );
        restore = stub.restore;
        const [i1, i2, s1, s2, other] = await Promise.all([
            lineageImages(REGION, "l1"),
            lineageImages(REGION, "l2"),
            lineageSnapshots(REGION, "l1"),
            lineageSnapshots(REGION, "l2"),
            lineageImages("us-east-1", "l1"),
        ]);
        assert.deepEqual([i1, i2, other].map((l) => l.map((i) => i.ImageId)), [["ami-1"], ["ami-3"], ["ami-1"]]);
        assert.deepEqual([s1, s2].map((l) => l.map((s) => s.SnapshotId)), [[], ["snap-1"]]);
        const images = inputsOf(stub.calls, "DescribeImages");
        assert.equal(images.length, 2, "one DescribeImages per region");
        assert.deepEqual(images[0], { Owners: ["self"], Filters: [{ Name: `tag:${LINEAGE_TAG}`, Values: ["l1", "l2"] }], IncludeDeprecated: true, IncludeDisabled: true });
        assert.deepEqual(inputsOf(stub.calls, "DescribeSnapshots"), [{ OwnerIds: ["self"], Filters: [{ Name: `tag:${LINEAGE_TAG}`, Values: ["l1", "l2"] }] }]);
    });

    it("two callers of one key get copies: a change by one never shows in the other's", async function () {
        restore = filtering([{ ImageId: "ami-1", State: "available", Tags: ofLineage("l1") }]).restore;
        const [first, second] = await Promise.all([lineageImages(REGION, "l1"), lineageImages(REGION, "l1")]);
        first[0].Tags!.push({ Key: "golden-ami:retired-at", Value: "now" });
        assert.deepEqual(second[0].Tags, ofLineage("l1"));
    });

    it("more keys than one filter takes (200): as many calls as needed, every key answered", async function () {
        const names = Array.from({ length: 250 }, (_, i) => `n${i}`);
        const stub = filtering(names.map((n) => ({ ImageId: `ami-${n}`, Name: n, State: "available" })));
        restore = stub.restore;
        const found = await Promise.all(names.map((n) => findOwnImagesByName(REGION, n)));
        assert.deepEqual(found.map((l) => l.map((i) => i.ImageId)), names.map((n) => [`ami-${n}`]));
        assert.deepEqual(inputsOf(stub.calls, "DescribeImages").map((c: any) => c.Filters[0].Values.length), [200, 50]);
    });

    it("a failed shared call fails every caller, each error naming its own look-up", async function () {
        restore = stubEc2(REGION, () => {
            throw awsError("UnauthorizedOperation", "You are not authorized to perform this operation.");
        }).restore;
        const [a, b] = await Promise.all([rejection(lineageImages(REGION, "l1")), rejection(lineageImages(REGION, "l2"))]);
        assert.match(a.message, /lineage l1 in eu-west-1 failed: UnauthorizedOperation/);
        assert.match(b.message, /lineage l2 in eu-west-1 failed: UnauthorizedOperation/);
    });
});
