// providers/ec2/images.ts on its own: images and snapshots as EC2 describes them, the state
// form of block device mappings, and the look-ups that tolerate an ID EC2 does not know (yet).
import * as assert from "node:assert/strict";
import {
    describeImage, describeImagesTolerant, describeSnapshots, describeSnapshotsInto, findOwnImagesByName, imageBlockDeviceOutputs, imageFacts, imageSnapshotIds,
} from "../../providers/ec2/images";
import { actions, awsError, inputsOf, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const notFound = (what: string) => awsError(what.startsWith("snap") ? "InvalidSnapshot.NotFound" : "InvalidAMIID.NotFound", `${what} does not exist`);

/** A stub answering DescribeImages / DescribeSnapshots by ID from these tables; an unknown ID fails the whole call, as EC2 does. */
function known(images: Record<string, Record<string, unknown>>, snapshots: string[] = []) {
    return stubEc2(REGION, (action, input) => {
        if (action === "DescribeImages") {
            const missing = (input.ImageIds as string[]).find((id) => !images[id]);
            if (missing) throw notFound(missing);
            return { Images: (input.ImageIds as string[]).map((id) => ({ ImageId: id, ...images[id] })) };
        }
        if (action === "DescribeSnapshots") {
            const missing = (input.SnapshotIds as string[]).find((id) => !snapshots.includes(id));
            if (missing) throw notFound(missing);
            return { Snapshots: (input.SnapshotIds as string[]).map((SnapshotId) => ({ SnapshotId, State: "completed" })) };
        }
        throw new Error(`unexpected ${action}`);
    });
}

describe("images (providers/ec2/images.ts)", function () {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());

    describe("imageBlockDeviceOutputs and imageSnapshotIds", function () {
        const image = {
            BlockDeviceMappings: [
                { DeviceName: "/dev/xvda", Ebs: { SnapshotId: "snap-1", VolumeSize: 8, VolumeType: "gp3" as const, Encrypted: true, KmsKeyId: "arn:key", DeleteOnTermination: true } },
                { DeviceName: "/dev/sdf", Ebs: { SnapshotId: "snap-2", Encrypted: false, KmsKeyId: "arn:ignored", DeleteOnTermination: false } },
                { DeviceName: "/dev/sdb", VirtualName: "ephemeral0" },
                { Ebs: { VolumeSize: 0 } },
            ],
        };

        it("keeps what EC2 reports, false values included; a KMS key only for an encrypted volume", function () {
            assert.deepEqual(imageBlockDeviceOutputs(image), [
                { deviceName: "/dev/xvda", snapshotId: "snap-1", volumeSize: 8, volumeType: "gp3", encrypted: true, kmsKeyId: "arn:key", deleteOnTermination: true },
                { deviceName: "/dev/sdf", snapshotId: "snap-2", encrypted: false, deleteOnTermination: false },
                { deviceName: "/dev/sdb" },
                { deviceName: "", volumeSize: 0 },
            ]);
            assert.deepEqual(imageBlockDeviceOutputs({}), []);
        });

        it("the snapshots in mapping order, none for a mapping without one", function () {
            assert.deepEqual(imageSnapshotIds(image), ["snap-1", "snap-2"]);
            assert.deepEqual(imageSnapshotIds({}), []);
        });

        it("imageFacts: the facts kept in state; a missing state reads unknown", function () {
            assert.deepEqual(
                imageFacts({ ImageId: "ami-1", State: "available", CreationDate: "2026-01-01T00:00:00.000Z", OwnerId: "123", Architecture: "arm64", RootDeviceName: "/dev/xvda", ...image }),
                {
                    imageId: "ami-1", snapshotIds: ["snap-1", "snap-2"], state: "available", creationDate: "2026-01-01T00:00:00.000Z", ownerId: "123",
                    architecture: "arm64", rootDeviceName: "/dev/xvda", blockDeviceMappings: imageBlockDeviceOutputs(image),
                },
            );
            assert.equal(imageFacts({ ImageId: "ami-2" }).state, "unknown");
        });
    });

    describe("describeImage", function () {
        it("the image; undefined when deregistered, not answered or not found", async function () {
            restore = known({ "ami-1": { State: "available" }, "ami-2": { State: "deregistered" } }).restore;
            assert.equal((await describeImage(REGION, "ami-1"))?.ImageId, "ami-1");
            assert.equal(await describeImage(REGION, "ami-2"), undefined);
            assert.equal(await describeImage(REGION, "ami-9"), undefined);
            restore = stubEc2(REGION, () => ({})).restore;
            assert.equal(await describeImage(REGION, "ami-1"), undefined);
        });

        it("another error names the image and region", async function () {
            restore = stubEc2(REGION, () => {
                throw awsError("UnauthorizedOperation", "You are not authorized to perform this operation.");
            }).restore;
            const err = await rejection(describeImage(REGION, "ami-1"));
            assert.match(err.message, /^golden-ami: describing image ami-1 in eu-west-1 failed: UnauthorizedOperation: /);
        });
    });

    describe("findOwnImagesByName", function () {
        it("asks for this account's images of exactly that name and leaves out deregistered ones", async function () {
            const stub = stubEc2(REGION, () => ({ Images: [{ ImageId: "ami-1", Name: "web", State: "available" }, { ImageId: "ami-2", Name: "web", State: "deregistered" }] }));
            restore = stub.restore;
            assert.deepEqual((await findOwnImagesByName(REGION, "web")).map((i) => i.ImageId), ["ami-1"]);
            assert.deepEqual(inputsOf(stub.calls, "DescribeImages"), [{ Owners: ["self"], Filters: [{ Name: "name", Values: ["web"] }] }]);
            restore = stubEc2(REGION, () => ({})).restore;
            assert.deepEqual(await findOwnImagesByName(REGION, "web"), []);
        });

        it("an error names the name and region", async function () {
            restore = stubEc2(REGION, () => {
                throw awsError("UnauthorizedOperation", "You are not authorized to perform this operation.");
            }).restore;
            const err = await rejection(findOwnImagesByName(REGION, "web"));
            assert.match(err.message, /^golden-ami: looking for an existing image named "web" in eu-west-1 failed: UnauthorizedOperation: /);
        });
    });

    describe("describeSnapshots and describeSnapshotsInto", function () {
        it("no IDs: no call", async function () {
            const stub = known({});
            restore = stub.restore;
            assert.deepEqual(await describeSnapshots(REGION, []), []);
            await describeSnapshotsInto(REGION, [], new Map());
            assert.deepEqual(stub.calls, []);
        });

        it("an answer without Snapshots is none", async function () {
            restore = stubEc2(REGION, () => ({})).restore;
            assert.deepEqual(await describeSnapshots(REGION, ["snap-1"]), []);
        });

        it("asks once for the distinct IDs", async function () {
            const stub = known({}, ["snap-1", "snap-2"]);
            restore = stub.restore;
            const into = new Map();
            await describeSnapshotsInto(REGION, ["snap-1", "snap-2", "snap-1"], into);
            assert.deepEqual(inputsOf(stub.calls, "DescribeSnapshots"), [{ SnapshotIds: ["snap-1", "snap-2"] }]);
            assert.deepEqual([...into.keys()], ["snap-1", "snap-2"]);
        });

        it("one unknown ID: then one by one, skipping it; a single unknown ID is just skipped", async function () {
            const stub = known({}, ["snap-1", "snap-3"]);
            restore = stub.restore;
            const into = new Map();
            await describeSnapshotsInto(REGION, ["snap-1", "snap-2", "snap-3"], into);
            assert.deepEqual([...into.keys()].sort(), ["snap-1", "snap-3"]);
            assert.deepEqual(inputsOf(stub.calls, "DescribeSnapshots").map((i) => i.SnapshotIds), [["snap-1", "snap-2", "snap-3"], ["snap-1"], ["snap-2"], ["snap-3"]]);
        });

        it("another error is thrown", async function () {
            const denied = awsError("UnauthorizedOperation", "no");
            restore = stubEc2(REGION, () => {
                throw denied;
            }).restore;
            assert.equal(await rejection(describeSnapshotsInto(REGION, ["snap-1", "snap-2"], new Map())), denied);
        });
    });

    describe("describeImagesTolerant", function () {
        it("several known IDs in one call", async function () {
            const stub = known({ "ami-1": { State: "available" }, "ami-2": { State: "pending" } });
            restore = stub.restore;
            const found = await describeImagesTolerant(REGION, ["ami-1", "ami-2"]);
            assert.deepEqual([...found.keys()], ["ami-1", "ami-2"]);
            assert.deepEqual(actions(stub.calls), ["DescribeImages"]);
        });

        it("one unknown among several: one by one, without it", async function () {
            const stub = known({ "ami-1": { State: "available" }, "ami-3": { State: "pending" } });
            restore = stub.restore;
            const found = await describeImagesTolerant(REGION, ["ami-1", "ami-2", "ami-3"]);
            assert.deepEqual([...found.keys()], ["ami-1", "ami-3"]);
            assert.deepEqual(inputsOf(stub.calls, "DescribeImages").map((i) => i.ImageIds), [["ami-1", "ami-2", "ami-3"], ["ami-1"], ["ami-2"], ["ami-3"]]);
        });

        it("a single unknown ID, or another error, is thrown", async function () {
            restore = known({}).restore;
            assert.match((await rejection(describeImagesTolerant(REGION, ["ami-9"]))).message, /ami-9 does not exist/);
            const denied = awsError("UnauthorizedOperation", "no");
            restore = stubEc2(REGION, () => {
                throw denied;
            }).restore;
            assert.equal(await rejection(describeImagesTolerant(REGION, ["ami-1", "ami-2"])), denied);
        });

        it("an answer without Images finds nothing", async function () {
            restore = stubEc2(REGION, () => ({})).restore;
            assert.equal((await describeImagesTolerant(REGION, ["ami-1", "ami-2"])).size, 0);
        });
    });
});
