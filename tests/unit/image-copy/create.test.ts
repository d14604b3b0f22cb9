// ImageCopy create: CopyImage with its ClientToken, the wait, adopt and refuse, clean-up and partial state.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { copyClientToken } from "../../../providers/core/naming";
import { setConfiguredRegion } from "../../../providers/core/region";
import { ec2Client } from "../../../providers/ec2/client";
import { WaitFailedError } from "../../../providers/ec2/waiter";
import { ImageCopyOutputs } from "../../../providers/lifecycle/image-copy";
import { PartialCreateError } from "../../../providers/lifecycle/partial";
import { providerShim } from "../../../providers/resources/shim";
import { FakeCall, FakeEc2, fromTags, Tags } from "../../support/fake-ec2";
import { awsError, countByAction, inputsOf, rejection } from "../../support/fakes";
import { A, B, copyEc2, inputsWith, KEY_ARN, MARKERS, NAME, REGION, SOURCE, SOURCE_IMAGE, SOURCE_NAME, SOURCE_REGION, URN, withoutProvider, world, LINEAGE, withoutLineage } from "./fixture";

let provider: pulumi.dynamic.ResourceProvider;
const UNKNOWN = pulumi.runtime.unknownValue;

describe("ImageCopy provider", function () {
    let ec2: FakeEc2;
    let calls: FakeCall[];
    let undo: Array<() => void>;

    beforeEach(function () {
        let restore: () => void;
        ({ ec2, calls, provider, restore } = world());
        undo = [restore];
    });
    afterEach(function () {
        for (const u of undo.reverse()) u();
    });


    async function created(over: Record<string, unknown> = {}): Promise<ImageCopyOutputs> {
        const { outs } = await provider.create(inputsWith(over));
        calls.length = 0;
        return outs as ImageCopyOutputs;
    }

    describe("create", function () {
        it("CopyImage in the destination with a derived ClientToken and marker tags, then waits for the copy and every snapshot", async function () {
            const { id, outs } = await provider.create(inputsWith({ description: "golden web" }));
            const [copy] = inputsOf(calls, "CopyImage");
            assert.equal(countByAction(calls).CopyImage, 1);
            assert.ok(calls.filter((c) => c.action === "CopyImage").every((c) => c.region === REGION), "CopyImage goes to the destination region");
            const { ClientToken, ...request } = copy;
            assert.deepEqual(
                { ...request, TagSpecifications: undefined },
                { SourceImageId: SOURCE, SourceRegion: SOURCE_REGION, Name: NAME, Description: "golden web", Encrypted: false, KmsKeyId: undefined, CopyImageTags: false, SnapshotCopyCompletionDurationMinutes: undefined, TagSpecifications: undefined },
            );
            assert.equal(ClientToken, copyClientToken({ region: REGION, request }));
            assert.match(ClientToken, /^golden-ami-[0-9a-f]{40}$/);
            assert.ok(ClientToken.length <= 64);
            const spec = (type: string) => fromTags(copy.TagSpecifications.find((s: { ResourceType: string }) => s.ResourceType === type)?.Tags);
            assert.deepEqual(withoutLineage(spec("image")), { team: "platform", ...MARKERS });
            assert.deepEqual(withoutLineage(spec("snapshot")), { backup: "daily", ...MARKERS });
            for (const type of ["image", "snapshot"]) {
                assert.equal(spec(type)["golden-ami:generation"], "1", "the first generation of its lineage");
                assert.equal(spec(type)["golden-ami:lineage"], LINEAGE);
            }

            const image = ec2.copies()[0];
            assert.equal(id, image.id);
            assert.deepEqual(image.served.slice(0, 3), ["pending", "pending", "available"]);
            assert.equal(outs.imageId, image.id);
            assert.equal(outs.state, "available");
            assert.deepEqual(outs.snapshotIds, image.snapshotIds);
            assert.equal(outs.region, REGION);
            assert.equal(outs.sourceImageId, SOURCE);
            assert.equal(outs.sourceRegion, SOURCE_REGION);
            assert.equal(outs.encrypted, false);
            assert.deepEqual(outs.tags, { team: "platform" });
            assert.deepEqual(outs.snapshotTags, { backup: "daily" });
            assert.equal(outs.description, "golden web");
            assert.equal(outs.complete, true);
            assert.equal(outs.__provider, "x");
            assert.equal(outs.copiedTags, undefined);
        });

        it("the same request gives the same ClientToken; another request another one", async function () {
            await provider.create(inputsWith());
            const first = inputsOf(calls, "CopyImage")[0].ClientToken;
            const again = copyEc2();
            undo.push(again.install());
            const stubbed = (ec2Client(REGION) as unknown as { send: (c: unknown) => unknown });
            const log: string[] = [];
            const send = stubbed.send;
            stubbed.send = async (c: any) => {
                if (c.constructor.name === "CopyImageCommand") log.push(c.input.ClientToken);
                return send(c);
            };
            await provider.create(inputsWith());
            await provider.create(inputsWith({ name: "other-name", tags: { team: "data" } }));
            assert.equal(log[0], first);
            assert.notEqual(log[1], first);
        });

        it("encrypted with a KMS key, time-based: Encrypted, KmsKeyId and SnapshotCopyCompletionDurationMinutes reach CopyImage", async function () {
            const { outs } = await provider.create(inputsWith({ encrypted: true, kmsKeyId: KEY_ARN, snapshotCopyCompletionDurationMinutes: 30 }));
            const [copy] = inputsOf(calls, "CopyImage");
            assert.equal(copy.Encrypted, true);
            assert.equal(copy.KmsKeyId, KEY_ARN);
            assert.equal(copy.SnapshotCopyCompletionDurationMinutes, 30);
            assert.equal(outs.kmsKeyId, KEY_ARN);
            for (const m of outs.blockDeviceMappings) {
                assert.equal(m.encrypted, true);
                assert.equal(m.kmsKeyId, KEY_ARN);
            }
        });

        it("a retried create whose first copy is not yet visible by name: the ClientToken makes EC2 answer with the same copy", async function () {
            ec2.hiddenByName = 2;
            const first = await provider.create(inputsWith());
            const second = await provider.create(inputsWith());
            assert.equal(countByAction(calls).CopyImage, 2);
            assert.equal(second.id, first.id);
            assert.equal(ec2.copies().length, 1, "one copy");
        });

        it("after a destroy, the same request again makes a new copy (EC2 answers the remembered token with the deleted copy)", async function () {
            const first = await provider.create(inputsWith());
            await provider.delete!(first.id, first.outs);
            calls.length = 0;
            const second = await provider.create(inputsWith());
            assert.notEqual(second.id, first.id);
            assert.equal(second.outs.state, "available");
            const tokens = inputsOf(calls, "CopyImage").map((i) => i.ClientToken);
            assert.equal(tokens.length, 2);
            assert.notEqual(tokens[1], tokens[0], "stepped over the stale token");
            // A retry of that create follows the same token chain to the same copy.
            ec2.hiddenByName = 1;
            const third = await provider.create(inputsWith());
            assert.equal(third.id, second.id);
            assert.equal(ec2.copies().filter((c) => !c.deregistered).length, 1);
        });

        it("adopts a copy of the same name with this source's markers: no CopyImage, waits for it", async function () {
            const earlier = ec2.seedImage({ id: "ami-0c000000000000099", name: NAME, tags: { ...MARKERS, team: "platform" }, states: ["pending", "available"] });
            const { id, outs } = await provider.create(inputsWith());
            assert.equal(countByAction(calls).CopyImage, undefined);
            assert.equal(id, earlier.id);
            assert.equal(outs.state, "available");
            assert.deepEqual(earlier.served.slice(0, 2), ["pending", "available"]);
        });

        const foreign: Array<[string, Tags]> = [
            ["without marker tags", { team: "platform" }],
            ["copied from another source", { ...MARKERS, [SOURCE_IMAGE]: `${SOURCE_REGION}/ami-0fedcba9876543210` }],
        ];
        for (const [what, tags] of foreign) {
            it(`an image of the same name ${what}: an error naming it, no CopyImage, the image untouched`, async function () {
                const other = ec2.seedImage({ id: "ami-0c000000000000098", name: NAME, tags });
                const err = await rejection(provider.create(inputsWith()));
                assert.match(err.message, new RegExp(other.id));
                assert.match(err.message, /choose another name/);
                assert.equal(countByAction(calls).CopyImage, undefined);
                assert.ok(!other.deregistered);
            });
        }

        it("a copy into the source's own region under the source's name: refused, the source untouched", async function () {
            ec2.images.get(SOURCE)!.region = REGION;
            const err = await rejection(provider.create(inputsWith({ sourceRegion: REGION, name: SOURCE_NAME })));
            assert.match(err.message, /is the name of the source image/);
            assert.equal(countByAction(calls).CopyImage, undefined);
            assert.equal(ec2.images.get(SOURCE)!.deregistered, false);
        });

        it("a copy that ends failed: error quoting its StateReason, copy and snapshots deleted, not a partial create", async function () {
            ec2.newImageStates = ["pending", "failed"];
            ec2.newImageStateReason = { Code: "Client.InvalidKMSKey.InvalidState", Message: "The KMS key is pending deletion" };
            const err = await rejection(provider.create(inputsWith()));
            assert.ok(err instanceof WaitFailedError, String(err));
            assert.ok(!(err instanceof PartialCreateError));
            assert.match(err.message, /The KMS key is pending deletion/);
            const copy = ec2.copies()[0];
            assert.match(err.message, new RegExp(copy.id));
            assert.ok(copy.deregistered);
            for (const s of copy.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted, `${s} orphaned`);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId).sort(), [...copy.snapshotIds].sort());
        });

        it("a copy still pending after imageTimeoutMinutes: PartialCreateError with the copy's ID, kept for the next up", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const err = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 2 })));
            assert.ok(err instanceof PartialCreateError, String(err));
            const copy = ec2.copies()[0];
            assert.equal(err.id, copy.id);
            assert.equal(err.properties.__provider, "x");
            assert.equal(err.properties.state, "pending");
            assert.equal(err.properties.complete, false);
            assert.equal(err.properties.sourceImageId, SOURCE);
            assert.match(err.reasons[0], /timed out after 2 min/);
            assert.equal(countByAction(calls).DeregisterImage, undefined);

            // The next up resumes it.
            copy.states = ["pending", "available"];
            for (const s of copy.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "completed", progress: "100%" }];
            const { outs } = await provider.update!(err.id, err.properties as unknown as ImageCopyOutputs, inputsWith() as never);
            assert.equal(outs.state, "available");
            assert.equal(outs.complete, true);
            assert.deepEqual(outs.snapshotIds, copy.snapshotIds);
            assert.equal(countByAction(calls).CopyImage, 1);
        });

        it("copyImageTags: the source's tags are on the copy but kept apart from tags (copiedTags)", async function () {
            const { outs } = await provider.create(inputsWith({ copyImageTags: true, tags: { env: "prod" } }));
            assert.equal(inputsOf(calls, "CopyImage")[0].CopyImageTags, true);
            const copy = ec2.copies()[0];
            assert.equal(copy.tags.team, "platform");
            assert.deepEqual(outs.tags, { env: "prod" });
            assert.deepEqual(outs.copiedTags, { team: "platform" });
            const { props } = await provider.read!(copy.id, outs as ImageCopyOutputs);
            assert.deepEqual(props, withoutProvider(outs));
            const d = await provider.diff!(copy.id, outs as ImageCopyOutputs, inputsWith({ copyImageTags: true, tags: { env: "prod" } }));
            assert.equal(d.changes, false);
        });
    });
});
