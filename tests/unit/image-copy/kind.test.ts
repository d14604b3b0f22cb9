// The ImageCopy kind's own part (providers/lifecycle/image-copy.ts) where mutation testing
// found it untold (docs/mutation-testing.md): KMS key and completion checks word for word,
// when the same-region name lookup runs (and when no EC2 call is made), the source's tags on a
// resume and when copyImageTags is turned on, the messages that name the copy's origin, and
// the derived name that must not change between releases.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { GoldenAmiError } from "../../../providers/core/errors";
import { setConfiguredRegion } from "../../../providers/core/region";
import { PartialCreateError } from "../../../providers/lifecycle/partial";
import { FakeCall, FakeEc2 } from "../../support/fake-ec2";
import { awsError, countByAction, FAKE_ACCOUNT, FakeClock, rejection, testProviders } from "../../support/fakes";
import { inputsWith, KEY_ARN, NAME, REGION, SOURCE, SOURCE_NAME, SOURCE_REGION, URN, world } from "./fixture";

const UNKNOWN = pulumi.runtime.unknownValue;
/** `check` of the fixture's copy (us-east-1 → eu-west-1, derived name), as golden-ami 0.1.0 derives it. */
const DERIVED_NAME = "web-eu-836632854c29";

describe("ImageCopy kind", function () {
    let ec2: FakeEc2;
    let calls: FakeCall[];
    let provider: pulumi.dynamic.ResourceProvider;
    let restore: () => void;

    beforeEach(function () {
        ({ ec2, calls, provider, restore } = world());
    });
    afterEach(function () {
        restore();
    });

    const valid = (over: Record<string, unknown> = {}) => ({ sourceImageId: SOURCE, sourceRegion: SOURCE_REGION, region: REGION, resourceUrn: URN, ...over });
    async function check(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
        const result = await provider.check!(olds, news);
        return { inputs: result.inputs as Record<string, any>, failures: result.failures ?? [] };
    }

    describe("check", function () {
        it("a kmsKeyId that is not a string names kmsKeyId", async function () {
            assert.deepEqual((await check(valid({ kmsKeyId: 5 }))).failures.map((f) => f.property), ["kmsKeyId"]);
        });

        it("a key ARN is not held against a region that is itself refused (one failure, the region's)", async function () {
            const { failures } = await check(valid({ region: "eu-west-1a", kmsKeyId: KEY_ARN }));
            assert.deepEqual(failures.map((f) => f.property), ["region"]);
        });

        it("a malformed key: the example names the copy's region, or <region> while it is unknown", async function () {
            const known = (await check(valid({ kmsKeyId: "my-key" }))).failures;
            assert.deepEqual(known.map((f) => f.reason), [
                `kmsKeyId: "my-key" is not a KMS key ID, key ARN, alias or alias ARN; write it like "1234abcd-12ab-34cd-56ef-1234567890ab", "alias/my-key" or "arn:aws:kms:${REGION}:123456789012:key/<key-id>"`,
            ]);
            // No region anywhere: the region's own failure, and <region> in the example.
            const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
            delete process.env.AWS_REGION;
            delete process.env.AWS_DEFAULT_REGION;
            setConfiguredRegion(undefined);
            try {
                const none = (await check(valid({ region: undefined, kmsKeyId: "my-key" }))).failures;
                assert.ok(none.some((f) => f.property === "region"), JSON.stringify(none));
                assert.match(none.find((f) => f.property === "kmsKeyId")!.reason, /or "arn:aws:kms:<region>:123456789012:key\/<key-id>"$/);
            } finally {
                for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
            }
        });

        it("snapshotCopyCompletionDurationMinutes: null is none; a fraction is refused", async function () {
            assert.deepEqual((await check(valid({ snapshotCopyCompletionDurationMinutes: null }))).failures, []);
            assert.deepEqual((await check(valid({ snapshotCopyCompletionDurationMinutes: 15.5 }))).failures.map((f) => f.property), ["snapshotCopyCompletionDurationMinutes"]);
        });

        it("a missing sourceImageId says what it is", async function () {
            const { failures } = await check(valid({ sourceImageId: undefined }));
            assert.deepEqual(failures, [{ property: "sourceImageId", reason: "sourceImageId is required: the ID of the image to copy (ami-...)" }]);
        });

        it("kmsKeyId null is no key: not encrypted", async function () {
            assert.equal((await check(valid({ kmsKeyId: null }))).inputs.encrypted, false);
        });

        it("the derived name is the one earlier releases derived (a change would replace every copy)", async function () {
            assert.equal((await check(valid())).inputs.name, DERIVED_NAME);
        });

        describe("the same-region name lookup runs only for a known name of a same-region copy, changed since the last deployment", function () {
            const lookups = () => countByAction(calls).DescribeImages ?? 0;
            it("a same-region copy with a new name: one lookup", async function () {
                await check(valid({ region: SOURCE_REGION, name: "web-again" }));
                assert.equal(lookups(), 1);
            });
            it("a copy into another region: none", async function () {
                await check(valid({ name: "web-again" }));
                assert.equal(lookups(), 0);
            });
            it("the name unchanged from the last deployment: none", async function () {
                await check(valid({ region: SOURCE_REGION, name: "web-again" }), { name: "web-again" });
                assert.equal(lookups(), 0);
            });
        });
    });

    describe("create", function () {
        it("says on the row what it copies from where to where", async function () {
            const lines: string[] = [];
            await testProviders(new FakeClock(), (l) => lines.push(l)).ImageCopy.create(inputsWith());
            assert.ok(lines.includes(`copying image ${SOURCE} from ${SOURCE_REGION} to ${REGION} as ${NAME}`), lines.join(" | "));
        });

        it("a CopyImage error names the copy being made", async function () {
            ec2.fail("CopyImage", awsError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403));
            const err = await rejection(provider.create(inputsWith()));
            assert.match(err.message, new RegExp(`^golden-ami: copying image ${SOURCE} from ${SOURCE_REGION} to ${REGION} as "${NAME}" failed: UnauthorizedOperation`));
        });

        it("a foreign image of the name: the message says golden-ami did not copy it from this source", async function () {
            ec2.seedImage({ id: "ami-0bbbbbbbbbbbbbbb2", region: REGION, name: NAME, tags: {} });
            const err = await rejection(provider.create(inputsWith()));
            assert.match(err.message, new RegExp(`golden-ami did not copy it from ${SOURCE_REGION}/${SOURCE}`));
        });

        it("the source's own name in its own region: code InvalidAMIName.Duplicate, saying what to do", async function () {
            const err = await rejection(provider.create(inputsWith({ region: SOURCE_REGION, name: SOURCE_NAME })));
            assert.equal((err as GoldenAmiError).code, "InvalidAMIName.Duplicate");
            assert.match(err.message, /What to do: set name to something else, or leave it out for a derived one\.$/);
        });

        it("copyImageTags with no tags declared: the source's tags are the copied ones", async function () {
            const { outs } = await provider.create(inputsWith({ copyImageTags: true, tags: undefined }));
            assert.equal(outs.tags, undefined);
            assert.deepEqual(outs.copiedTags, { team: "platform" });
        });
    });

    describe("update", function () {
        it("a resumed copy with copyImageTags: the copied tags are read from the copy", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const partial = await rejection(provider.create(inputsWith({ copyImageTags: true, tags: { env: "prod" }, imageTimeoutMinutes: 1 })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            assert.equal(partial.properties.copiedTags, undefined, "a pending copy records none yet");
            const copy = ec2.copies()[0];
            copy.states = ["available"];
            for (const s of copy.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "completed", progress: "100%" }];
            const { outs } = await provider.update!(partial.id, partial.properties, inputsWith({ copyImageTags: true, tags: { env: "prod" }, imageTimeoutMinutes: 1 }) as never);
            assert.deepEqual(outs.copiedTags, { team: "platform" });
            assert.deepEqual(outs.tags, { env: "prod" });
        });

        it("turning copyImageTags on copies the source's tags but not its aws: ones", async function () {
            const source = ec2.images.get(SOURCE)!;
            source.tags["aws:cloudformation:stack-name"] = "base";
            const { id, outs } = await provider.create(inputsWith());
            const { outs: after } = await provider.update!(id, outs, inputsWith({ copyImageTags: true }) as never);
            assert.deepEqual(after.copiedTags, undefined, "team is declared too, so it stays the user's");
            const { outs: undeclared } = await provider.update!(id, after, inputsWith({ copyImageTags: false, tags: {} }) as never);
            const { outs: again } = await provider.update!(id, undeclared, inputsWith({ copyImageTags: true, tags: {} }) as never);
            assert.deepEqual(again.copiedTags, { team: "platform" });
            assert.equal(ec2.copies()[0].tags["aws:cloudformation:stack-name"], undefined);
        });

        it("turning copyImageTags on when the source is gone: refused, saying what to do", async function () {
            const { id, outs } = await provider.create(inputsWith());
            ec2.images.get(SOURCE)!.deregistered = true;
            const err = await rejection(provider.update!(id, outs, inputsWith({ copyImageTags: true }) as never));
            assert.equal((err as GoldenAmiError).code, "InvalidAMIID.NotFound");
            assert.equal(
                err.message,
                `golden-ami: copyImageTags: the source image ${SOURCE} no longer exists in ${SOURCE_REGION}, so its tags cannot be copied. What to do: set copyImageTags to false.` +
                    ` (golden-ami acted as account ${FAKE_ACCOUNT} (arn:aws:iam::${FAKE_ACCOUNT}:user/fake) in eu-west-1.)`,
            );
        });

        it("copied tags are the source's at copy time: an unrelated update does not copy them again", async function () {
            const { id, outs } = await provider.create(inputsWith({ copyImageTags: true, tags: {} }));
            ec2.images.get(SOURCE)!.tags.team = "data";
            const { outs: after } = await provider.update!(id, outs, inputsWith({ copyImageTags: true, tags: {}, description: "new" }) as never);
            assert.equal(ec2.copies()[0].tags.team, "platform");
            assert.deepEqual(after.copiedTags, { team: "platform" });
        });
    });
});
