// Branches of the one image lifecycle (providers/lifecycle/image-lifecycle.ts) that the kind
// specs did not tell apart (mutation testing's survivors, docs/mutation-testing.md): the
// derived name on a changed identity, checks that need the complete inputs, adoptImageId
// (missing, failing later, its description and name), a make that fails or races, the
// snapshot tags of the root snapshot, an update that is not a resume, and what read keeps.
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { GoldenAmiError } from "../../providers/core/errors";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { FakeEc2 } from "../support/fake-ec2";
import { awsError, countByAction, FAKE_ACCOUNT, FakeClock, inputsOf, rejection, testProviders } from "../support/fakes";
import * as copy from "./image-copy/fixture";
import { EARLIER_IMAGE, INSTANCE, inputsWith, MARKERS, NAME, NEW_IMAGE, OTHER_INSTANCE, REGION, URN, world } from "./instance-image/fixture";

const DENIED = () => awsError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403);
const FAILED_REASON = { Code: "Client.InternalError", Message: "Client.InternalError: snapshot creation ran out of capacity" };

describe("image lifecycle branches (InstanceImage)", function () {
    let ec2: FakeEc2;
    let provider: pulumi.dynamic.ResourceProvider;
    let restore: () => void;
    let lines: string[];

    beforeEach(function () {
        ({ ec2, restore } = world());
        lines = [];
        provider = testProviders(new FakeClock(), (line) => lines.push(line)).InstanceImage;
    });
    afterEach(function () {
        restore();
    });

    describe("check", function () {
        const check = async (news: Record<string, unknown>, olds: Record<string, unknown> = {}) => {
            const result = await provider.check!(olds, news);
            return { inputs: result.inputs as Record<string, any>, failures: result.failures ?? [] };
        };

        it("a changed identity (another instance) gets a new derived name, not the name derived for the old one", async function () {
            const first = await check({ instanceId: INSTANCE, region: REGION, resourceUrn: URN });
            assert.match(first.inputs.name, /^web-[0-9a-f]{12}$/);
            const second = await check({ instanceId: OTHER_INSTANCE, region: REGION, resourceUrn: URN }, { name: first.inputs.name });
            assert.match(second.inputs.name, /^web-[0-9a-f]{12}$/);
            assert.notEqual(second.inputs.name, first.inputs.name);
        });
    });

    describe("diff", function () {
        it("adoptImageId naming the image already in state is no replacement", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME });
            const { outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE }));
            const diff = await provider.diff!(EARLIER_IMAGE, outs, inputsWith({ adoptImageId: EARLIER_IMAGE }));
            assert.deepEqual(diff.replaces, []);
            assert.equal(diff.changes, false);
        });
    });

    describe("create with adoptImageId", function () {
        it("an image that does not exist: refused with its ID and region, nothing made or stopped", async function () {
            const err = await rejection(provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE })));
            assert.ok(err instanceof GoldenAmiError, String(err));
            assert.equal(err.code, "InvalidAMIID.NotFound");
            assert.equal(
                err.message,
                `golden-ami: adoptImageId ${EARLIER_IMAGE} does not exist in ${REGION}. What to do: check the ID and the region.` +
                    ` (golden-ami acted as account ${FAKE_ACCOUNT} (arn:aws:iam::${FAKE_ACCOUNT}:user/fake) in ${REGION}.)`,
            );
            const counts = countByAction(ec2.calls);
            assert.equal(counts.CreateImage, undefined);
            assert.equal(counts.StopInstances, undefined);
        });

        it("a later step that fails (the distribution) gives the error, not a partial create: the image stays the user's", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME });
            ec2.fail("ModifyImageAttribute", DENIED());
            const err = await rejection(provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, launchAccounts: ["111111111111"] })));
            assert.ok(!(err instanceof PartialCreateError), `not recorded: ${err}`);
            assert.match(err.message, /UnauthorizedOperation/);
            assert.ok(!ec2.images.get(EARLIER_IMAGE)!.deregistered);
        });

        it("keeps the image's own description when the program declares none", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, description: "theirs" });
            const { outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE }));
            assert.equal(ec2.images.get(EARLIER_IMAGE)!.description, "theirs");
            assert.equal(outs.description, "theirs");
            assert.equal(countByAction(ec2.calls).ModifyImageAttribute, undefined);
        });

        it("sets a declared description over the image's own", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, description: "theirs" });
            const { outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, description: "golden" }));
            assert.equal(ec2.images.get(EARLIER_IMAGE)!.description, "golden");
            assert.equal(outs.description, "golden");
        });

        it("state names the image by its own name", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: "hand-made" });
            const { outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE }));
            assert.equal(outs.name, "hand-made");
        });

        it("an image with one snapshot: the last line says 'its snapshot completed'", async function () {
            const image = ec2.seedImage({ id: EARLIER_IMAGE, name: NAME });
            image.snapshotIds = image.snapshotIds.slice(0, 1);
            await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE }));
            assert.equal(lines.at(-1), `image ${EARLIER_IMAGE} available, its snapshot completed`);
        });
    });

    describe("create, adopted by name from an interrupted run", function () {
        it("a description the program no longer declares is cleared (the image is golden-ami's, not handed over)", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, description: "old", tags: { ...MARKERS } });
            const { outs } = await provider.create(inputsWith());
            assert.deepEqual(inputsOf(ec2.calls, "ModifyImageAttribute"), [{ ImageId: EARLIER_IMAGE, Description: { Value: "" } }]);
            assert.equal(outs.description, undefined);
        });
    });

    describe("create: the make call fails", function () {
        it("another error while a marked image of the name appeared: the error, not an adoption", async function () {
            ec2.fail("CreateImage", DENIED(), 1, () => {
                ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: { ...MARKERS } });
                return true;
            });
            const err = await rejection(provider.create(inputsWith()));
            assert.match(err.message, /creating image "web-golden" from instance .* failed: UnauthorizedOperation/);
        });

        it("InvalidAMIName.Duplicate and nothing of the name to be found: the duplicate error, not a partial create", async function () {
            ec2.fail("CreateImage", awsError("InvalidAMIName.Duplicate", "AMI name web-golden is already in use by AMI ami-0ffffffffffffffff"));
            const err = await rejection(provider.create(inputsWith()));
            assert.ok(!(err instanceof PartialCreateError), String(err));
            assert.match(err.message, /already in use by AMI ami-0ffffffffffffffff/);
            assert.equal((err as GoldenAmiError).code, "InvalidAMIName.Duplicate");
        });

        it("InvalidAMIName.Duplicate for our marked image: adopted, so brought to the declared tags", async function () {
            ec2.beforeMake = () => {
                if (!ec2.images.has(EARLIER_IMAGE)) ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: { ...MARKERS, team: "old" } });
            };
            const { id, outs } = await provider.create(inputsWith());
            assert.equal(id, EARLIER_IMAGE);
            assert.deepEqual(ec2.images.get(EARLIER_IMAGE)!.tags, { ...MARKERS, team: "platform" });
            assert.deepEqual(outs.tags, { team: "platform" });
        });

        it("a foreign image of the name: code ForeignImage", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: {} });
            const err = await rejection(provider.create(inputsWith()));
            assert.equal((err as GoldenAmiError).code, "ForeignImage");
        });
    });

    describe("create: an image that ends failed", function () {
        it("its snapshots unknown after the failure (DescribeImages fails): deleted all the same, no DeleteSnapshot of an ID it does not have", async function () {
            ec2.newImageStates = ["pending", "failed"];
            ec2.newImageStateReason = FAILED_REASON;
            ec2.newSnapshotSteps = [{ state: "pending", progress: "30%" }];
            ec2.fail("DescribeImages", awsError("InternalError", "We encountered an internal error.", 500), 1, (input) =>
                Boolean(input.ImageIds) && [...ec2.images.values()].some((i) => i.served.includes("failed")));
            const err = await rejection(provider.create(inputsWith()));
            assert.match(err.message, /ran out of capacity/);
            const image = ec2.images.get(NEW_IMAGE)!;
            assert.ok(image.deregistered);
            assert.deepEqual(inputsOf(ec2.calls, "DeleteSnapshot").map((i) => i.SnapshotId).sort(), [...image.snapshotIds].sort());
        });
    });

    describe("the snapshot tags in state are the first (root) snapshot's", function () {
        it("read, with EC2 answering the snapshots in another order and the other snapshot tagged otherwise", async function () {
            const { id, outs } = await provider.create(inputsWith());
            const image = ec2.images.get(NEW_IMAGE)!;
            ec2.snapshots.get(image.snapshotIds[1])!.tags = { ...MARKERS, backup: "weekly" };
            ec2.reverseSnapshotAnswers = true;
            const { props } = await provider.read!(id, outs);
            assert.deepEqual(props!.snapshotTags, { backup: "daily" });
        });
    });

    describe("update", function () {
        it("a state without `complete` (older golden-ami) whose image is pending is resumed", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const partial = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 1 })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            const { complete, ...olds } = partial.properties;
            assert.equal(complete, false);
            const image = ec2.images.get(NEW_IMAGE)!;
            image.states = ["available"];
            for (const s of image.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "completed", progress: "100%" }];
            lines.length = 0;
            await provider.update!(partial.id, olds, inputsWith({ imageTimeoutMinutes: 1 }) as never);
            assert.equal(lines[0], `resuming image ${NEW_IMAGE}`);
        });

        it("a complete image found failed by an update: the error, and the image is not deleted (only a resume deletes)", async function () {
            const { id, outs } = await provider.create(inputsWith());
            const image = ec2.images.get(NEW_IMAGE)!;
            image.states = ["failed"];
            image.stateReason = FAILED_REASON;
            const err = await rejection(provider.update!(id, outs, inputsWith({ tags: { team: "data" } }) as never));
            assert.match(err.message, /ran out of capacity/);
            assert.equal(countByAction(ec2.calls).DeregisterImage, undefined);
            assert.ok(!image.deregistered);
        });

        it("a resumed image handed over with adoptImageId and found failed is not deleted (it is the user's)", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME });
            const { outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE }));
            const image = ec2.images.get(EARLIER_IMAGE)!;
            image.states = ["failed"];
            image.stateReason = FAILED_REASON;
            const err = await rejection(provider.update!(EARLIER_IMAGE, { ...outs, complete: false }, inputsWith({ adoptImageId: EARLIER_IMAGE }) as never));
            assert.match(err.message, /ran out of capacity/);
            assert.equal(countByAction(ec2.calls).DeregisterImage, undefined);
        });

        it("a resumed image found failed: code WaitFailed; the delete uses the image's own snapshots, none invented for a state without them", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const partial = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 1 })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            const image = ec2.images.get(NEW_IMAGE)!;
            image.states = ["failed"];
            image.stateReason = FAILED_REASON;
            for (const s of image.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "error", progress: "5%" }];
            const { snapshotIds, ...olds } = partial.properties;
            assert.deepEqual(snapshotIds, [], "a pending image's state lists no snapshots yet");
            const err = await rejection(provider.update!(partial.id, olds, inputsWith({ imageTimeoutMinutes: 1 }) as never));
            assert.equal((err as GoldenAmiError).code, "WaitFailed");
            assert.deepEqual(inputsOf(ec2.calls, "DeleteSnapshot").map((i) => i.SnapshotId).sort(), [...image.snapshotIds].sort());
        });

        it("an EC2 error while updating names the image and region", async function () {
            const { id, outs } = await provider.create(inputsWith());
            ec2.calls.length = 0;
            // The last look of the update (after the resume read the live distribution), an SDK error as it comes.
            ec2.fail("DescribeSnapshots", DENIED(), 1, () => ec2.calls.some((c) => c.action === "DescribeImageAttribute"));
            const err = await rejection(provider.update!(id, { ...outs, complete: false }, inputsWith() as never));
            assert.match(err.message, new RegExp(`^golden-ami: updating image ${id} in ${REGION} failed: UnauthorizedOperation`));
        });
    });

    describe("delete", function () {
        it("a state without snapshotIds: deregisters the image and deletes its own snapshots, nothing else", async function () {
            const { id, outs } = await provider.create(inputsWith());
            const { snapshotIds, ...props } = outs;
            await provider.delete!(id, props);
            assert.deepEqual(inputsOf(ec2.calls, "DeleteSnapshot").map((i) => i.SnapshotId).sort(), [...snapshotIds].sort());
        });
    });

    describe("read", function () {
        it("keeps adoptImageId and resourceUrn from state", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME });
            const { outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, resourceUrn: URN }));
            const { props } = await provider.read!(EARLIER_IMAGE, outs);
            assert.equal(props!.adoptImageId, EARLIER_IMAGE);
            assert.equal(props!.resourceUrn, URN);
        });
    });
});

describe("image lifecycle branches (ImageCopy)", function () {
    let ec2: FakeEc2;
    let provider: pulumi.dynamic.ResourceProvider;
    let restore: () => void;

    beforeEach(function () {
        ({ ec2, provider, restore } = copy.world());
    });
    afterEach(function () {
        restore();
    });

    it("check: the check that needs the complete inputs (the source's name) runs only when every other check passed", async function () {
        const news = { sourceImageId: copy.SOURCE, sourceRegion: copy.SOURCE_REGION, region: copy.SOURCE_REGION, name: copy.SOURCE_NAME, resourceUrn: copy.URN };
        const alone = await provider.check!({}, news);
        assert.deepEqual((alone.failures ?? []).map((f) => f.property), ["name"], "the same-region name clash alone");
        ec2.calls.length = 0;
        const withOther = await provider.check!({}, { ...news, description: "x".repeat(256) });
        assert.deepEqual((withOther.failures ?? []).map((f) => f.property), ["description"]);
        assert.equal(countByAction(ec2.calls).DescribeImages, undefined, "no lookup for inputs already refused");
    });
});
