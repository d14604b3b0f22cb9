// providers/ec2/lineage.ts: the EC2 calls of generations, each against a stubbed client that
// records what was asked — the lineage's images and snapshots by tag, DescribeImageReferences
// in batches of ten and pages, retiring (deprecation a minute ahead), deregistering with the
// snapshots EC2 did not delete, and every failure's message.
import * as assert from "node:assert/strict";
import type { Image } from "@aws-sdk/client-ec2";
import { LINEAGE_TAGS } from "../../providers/core/lineage";
import { deleteSnapshots, deregisterWithSnapshots, generationImage, imageReferences, lineageImages, lineageSnapshots, retireImage } from "../../providers/ec2/lineage";
import { awsError, Ec2Handler, RecordedCall, assertStartsWith, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const NOW = Date.UTC(2026, 5, 1);

describe("lineage EC2 calls (providers/ec2/lineage.ts)", function () {
    let calls: RecordedCall[];
    let restore: (() => void) | undefined;
    const stub = (handler: Ec2Handler) => {
        const s = stubEc2(REGION, handler);
        calls = s.calls;
        restore = s.restore;
    };
    afterEach(() => restore?.());

    it("lineageImages: the account's images with the lineage tag, deprecated and disabled ones included, deregistered ones left out", async function () {
        const tagged = [{ Key: LINEAGE_TAGS.lineage, Value: "L1" }];
        stub(() => ({ Images: [{ ImageId: "ami-1", State: "available", Tags: tagged }, { ImageId: "ami-2", State: "deregistered", Tags: tagged }, { ImageId: "ami-3", State: "disabled", Tags: tagged }] }));
        assert.deepEqual((await lineageImages(REGION, "L1")).map((i) => i.ImageId), ["ami-1", "ami-3"]);
        assert.deepEqual(calls[0].input, {
            Owners: ["self"],
            Filters: [{ Name: `tag:${LINEAGE_TAGS.lineage}`, Values: ["L1"] }],
            IncludeDeprecated: true,
            IncludeDisabled: true,
        });
    });

    it("lineageImages and lineageSnapshots: an empty answer is none; a failure says what was being listed", async function () {
        stub(() => ({}));
        assert.deepEqual(await lineageImages(REGION, "L1"), []);
        assert.deepEqual(await lineageSnapshots(REGION, "L1"), []);
        stub(() => { throw awsError("UnauthorizedOperation", "You are not authorized"); });
        assertStartsWith((await rejection(lineageImages(REGION, "L1"))).message,
            `golden-ami: listing the generations of lineage L1 in ${REGION} failed: UnauthorizedOperation: You are not authorized.`);
        assertStartsWith((await rejection(lineageSnapshots(REGION, "L1"))).message,
            `golden-ami: listing the snapshots of lineage L1 in ${REGION} failed: UnauthorizedOperation: You are not authorized.`);
    });

    it("lineageSnapshots: the account's snapshots with the lineage tag", async function () {
        const snapshot = { SnapshotId: "snap-1", Tags: [{ Key: LINEAGE_TAGS.lineage, Value: "L2" }] };
        stub(() => ({ Snapshots: [snapshot, { SnapshotId: "snap-9", Tags: [{ Key: LINEAGE_TAGS.lineage, Value: "other" }] }] }));
        assert.deepEqual(await lineageSnapshots(REGION, "L2"), [snapshot], "only the lineage asked for");
        assert.deepEqual(calls[0].input, { OwnerIds: ["self"], Filters: [{ Name: `tag:${LINEAGE_TAGS.lineage}`, Values: ["L2"] }] });
    });

    describe("generationImage", function () {
        const image = (over: Partial<Image>): Image => ({ ImageId: "ami-1", ...over });
        it("reads generation, retirement, protection and snapshots", function () {
            assert.deepEqual(generationImage(image({
                Tags: [{ Key: LINEAGE_TAGS.generation, Value: "3" }, { Key: LINEAGE_TAGS.retiredAt, Value: "2026-06-01T00:00:00.000Z" }],
                DeregistrationProtection: "enabled-with-cooldown",
                BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: "snap-1" } }],
            })), { imageId: "ami-1", generation: 3, retiredAt: NOW, protected: true, disabled: false, snapshotIds: ["snap-1"] });
        });
        it("no tags, no protection: generation 0, not retired, not protected", function () {
            assert.deepEqual(generationImage(image({})), { imageId: "ami-1", generation: 0, retiredAt: undefined, protected: false, disabled: false, snapshotIds: [] });
            assert.equal(generationImage(image({ State: "disabled" })).disabled, true);
            assert.equal(generationImage(image({ DeregistrationProtection: "disabled" })).protected, false);
            assert.equal(generationImage(image({ Tags: [{ Key: LINEAGE_TAGS.retiredAt, Value: "garbled" }] })).retiredAt, undefined);
        });
    });

    describe("imageReferences", function () {
        it("asks in batches of ten, follows NextToken, and gathers the ARNs per image", async function () {
            const ids = Array.from({ length: 12 }, (_, i) => `ami-${i}`);
            stub((_action, input) => {
                if (input.ImageIds.length === 10 && !input.NextToken) return { ImageReferences: [{ ImageId: "ami-0", Arn: "arn:a" }, { ImageId: "ami-1", Arn: "arn:b" }], NextToken: "t1" };
                if (input.NextToken === "t1") return { ImageReferences: [{ ImageId: "ami-0", Arn: "arn:c" }, { ImageId: "ami-2" }, { Arn: "arn:orphan" }] };
                return { ImageReferences: [{ ImageId: "ami-11", Arn: "arn:d" }] };
            });
            const found = await imageReferences(REGION, ids);
            assert.deepEqual([...found.entries()], [["ami-0", ["arn:a", "arn:c"]], ["ami-1", ["arn:b"]], ["ami-11", ["arn:d"]]]);
            assert.deepEqual(calls.map((c) => [c.input.ImageIds, c.input.NextToken]), [[ids.slice(0, 10), undefined], [ids.slice(0, 10), "t1"], [ids.slice(10), undefined]]);
            assert.deepEqual(calls[0].input.ResourceTypes, [{
                ResourceType: "ec2:Instance",
                ResourceTypeOptions: [{ OptionName: "state-name", OptionValues: ["pending", "running", "stopping", "stopped"] }],
            }]);
            assert.equal(calls[0].input.IncludeAllResourceTypes, true);
        });

        it("no images: no call; an empty answer: nothing", async function () {
            stub(() => ({}));
            assert.equal((await imageReferences(REGION, [])).size, 0);
            assert.equal(calls.length, 0);
            assert.equal((await imageReferences(REGION, ["ami-1"])).size, 0);
        });

        it("a failure names the batch", async function () {
            stub(() => { throw awsError("RequestLimitExceeded", "slow down"); });
            assertStartsWith((await rejection(imageReferences(REGION, ["ami-1", "ami-2"]))).message,
                `golden-ami: asking which resources reference ami-1, ami-2 in ${REGION} failed: RequestLimitExceeded: slow down.`);
        });
    });

    describe("retireImage", function () {
        it("deprecates a minute from now and tags the retirement time", async function () {
            stub(() => ({}));
            await retireImage(REGION, { ImageId: "ami-1" }, NOW);
            assert.deepEqual(calls.map((c) => c.action), ["EnableImageDeprecation", "CreateTags"]);
            assert.deepEqual(calls[0].input, { ImageId: "ami-1", DeprecateAt: new Date(NOW + 60_000) });
            assert.deepEqual(calls[1].input, { Resources: ["ami-1"], Tags: [{ Key: LINEAGE_TAGS.retiredAt, Value: new Date(NOW).toISOString() }] });
        });

        it("keeps a deprecation due within the minute (exactly a minute included); moves a later or unreadable one", async function () {
            stub(() => ({}));
            for (const [at, deprecates] of [[NOW + 60_000, false], [NOW + 1000, false], [NOW + 60_001, true], [undefined, true]] as const) {
                calls.length = 0;
                await retireImage(REGION, { ImageId: "ami-1", DeprecationTime: at === undefined ? "garbled" : new Date(at).toISOString() }, NOW);
                assert.equal(calls[0].action === "EnableImageDeprecation", deprecates, String(at));
                assert.equal(calls.at(-1)!.action, "CreateTags");
            }
        });

        it("a failure says which image was being retired", async function () {
            stub((action) => { if (action === "CreateTags") throw awsError("UnauthorizedOperation", "no"); return {}; });
            assertStartsWith((await rejection(retireImage(REGION, { ImageId: "ami-1" }, NOW))).message,
                `golden-ami: retiring image ami-1 in ${REGION} failed: UnauthorizedOperation: no.`);
        });
    });

    describe("deregisterWithSnapshots", function () {
        it("asks EC2 to delete the snapshots, and deletes one by one those it did not", async function () {
            stub((action) => action === "DeregisterImage"
                ? { DeleteSnapshotResults: [{ SnapshotId: "snap-1", ReturnCode: "success" }, { SnapshotId: "snap-2", ReturnCode: "warn-skipped" }] }
                : {});
            await deregisterWithSnapshots(REGION, "ami-1", ["snap-1", "snap-2", "snap-3"]);
            assert.deepEqual(calls[0].input, { ImageId: "ami-1", DeleteAssociatedSnapshots: true });
            assert.deepEqual(calls.slice(1).map((c) => c.input.SnapshotId), ["snap-2", "snap-3"]);
        });

        it("a snapshot left that cannot be deleted: the error names it and its image", async function () {
            stub((action) => { if (action === "DeleteSnapshot") throw awsError("InvalidSnapshot.InUse", "in use"); return {}; });
            assertStartsWith((await rejection(deregisterWithSnapshots(REGION, "ami-1", ["snap-1"]))).message,
                `golden-ami: deleting snapshot snap-1 of image ami-1 in ${REGION} failed: InvalidSnapshot.InUse: in use.`);
        });

        it("EC2 answering no results: every snapshot deleted one by one", async function () {
            stub(() => ({}));
            await deregisterWithSnapshots(REGION, "ami-1", ["snap-1"]);
            assert.deepEqual(calls.map((c) => c.action), ["DeregisterImage", "DeleteSnapshot"]);
        });

        it("an image gone already: its snapshots still go; another failure ends it with the image named", async function () {
            stub((action) => { if (action === "DeregisterImage") throw awsError("InvalidAMIID.NotFound", "gone"); return {}; });
            await deregisterWithSnapshots(REGION, "ami-1", ["snap-1"]);
            assert.deepEqual(calls.map((c) => c.action), ["DeregisterImage", "DeleteSnapshot"]);
            stub(() => { throw awsError("OperationNotPermitted", "protected"); });
            assertStartsWith((await rejection(deregisterWithSnapshots(REGION, "ami-1", ["snap-1"]))).message,
                `golden-ami: deregistering image ami-1 in ${REGION} failed: OperationNotPermitted: protected.`);
            assert.equal(calls.length, 1, "no snapshot deleted after a refused deregistration");
        });
    });

    describe("deleteSnapshots", function () {
        it("one call per snapshot; already gone is fine; another failure names the snapshot and what it was", async function () {
            stub((_a, input) => { if (input.SnapshotId === "snap-1") throw awsError("InvalidSnapshot.NotFound", "gone"); return {}; });
            await deleteSnapshots(REGION, ["snap-1", "snap-2"], "of image ami-1");
            assert.deepEqual(calls.map((c) => c.input.SnapshotId), ["snap-1", "snap-2"]);
            stub((_a, input) => { if (input.SnapshotId === "snap-2") throw awsError("InvalidSnapshot.InUse", "in use"); return {}; });
            assertStartsWith((await rejection(deleteSnapshots(REGION, ["snap-1", "snap-2", "snap-3"], "of image ami-1"))).message,
                `golden-ami: deleting snapshot snap-2 of image ami-1 in ${REGION} failed: InvalidSnapshot.InUse: in use.`);
            assert.deepEqual(calls.map((c) => c.input.SnapshotId), ["snap-1", "snap-2"]);
        });
    });
});
