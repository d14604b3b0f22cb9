// providers/lifecycle/retention.ts: generations over time in one region, against the fake EC2
// and virtual time — the next generation's tags, retiring older generations, the retention plan
// carried out (count, age, references, launches, protection), orphan snapshots, the read-only
// check of diff, a replacement's sign, destroy of a whole lineage, the build-time tag.
import * as assert from "node:assert/strict";
import { LINEAGE_TAGS, lineageId } from "../../providers/core/lineage";
import { shortHash } from "../../providers/core/naming";
import {
    lineageOf, LineageInputs, newerLiveGeneration, nextGenerationTags, removeLineage, retentionDue, retireAndRetain, retireOne, tagBuildTime,
} from "../../providers/lifecycle/retention";
import { describeImage } from "../../providers/ec2/images";
import { FakeEc2, FakeImage, Tags } from "../support/fake-ec2";
import { awsError, countByAction, FakeClock, rejection } from "../support/fakes";

const REGION = "eu-west-1";
const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:InstanceImage::web";
const INPUTS: LineageInputs = { region: REGION, name: "web-7", resourceUrn: URN };
const LINEAGE = lineageId(URN, "unused");
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe("retention (providers/lifecycle/retention.ts)", function () {
    let ec2: FakeEc2;
    let clock: FakeClock;
    let restore: () => void;
    let said: string[];
    const progress = (m: string) => { said.push(m); };

    beforeEach(() => {
        ec2 = new FakeEc2([REGION]);
        clock = new FakeClock(Date.UTC(2026, 5, 1));
        restore = ec2.install();
        said = [];
    });
    afterEach(() => restore());

    /** An image of the lineage, generation `generation`, with two tagged snapshots. */
    function generation(n: number, over: Partial<FakeImage> = {}, tags: Tags = {}): FakeImage {
        const lineageTags = { [LINEAGE_TAGS.lineage]: LINEAGE, [LINEAGE_TAGS.generation]: String(n) };
        return ec2.seedImage({ id: `ami-0${String(n).padStart(16, "0")}`, name: `web-${n}`, tags: { ...lineageTags, ...tags }, ...over }, undefined, lineageTags);
    }
    const retiredTag = (at: number) => ({ [LINEAGE_TAGS.retiredAt]: iso(at) });
    const liveImages = () => [...ec2.images.values()].filter((i) => !i.deregistered).map((i) => i.id).sort();
    const current = (image: FakeImage) => ({ imageId: image.id, generation: Number(image.tags[LINEAGE_TAGS.generation]), snapshotIds: image.snapshotIds });
    const looked = async (image: FakeImage) => (await describeImage(REGION, image.id))!;

    it("lineageOf: the URN's hash, else the region and name's", function () {
        assert.equal(lineageOf(INPUTS), LINEAGE);
        assert.equal(lineageOf({ region: REGION, name: "web-7" }), lineageId(undefined, `${REGION}/web-7`));
        assert.notEqual(lineageOf({ region: REGION, name: "web-7" }), lineageOf({ region: "us-east-1", name: "web-7" }));
    });

    describe("nextGenerationTags", function () {
        it("the first generation: 1, the lineage, the recipe's hash; the lineage was empty", async function () {
            assert.deepEqual(await nextGenerationTags(INPUTS, { instanceId: "i-1" }), {
                tags: {
                    [LINEAGE_TAGS.lineage]: LINEAGE,
                    [LINEAGE_TAGS.generation]: "1",
                    [LINEAGE_TAGS.recipe]: shortHash({ instanceId: "i-1" }, 16),
                },
                lineageEmpty: true,
            });
        });

        it("the lineage is not empty when an image or only a snapshot of it is left", async function () {
            const left = generation(1);
            assert.equal((await nextGenerationTags(INPUTS, {})).lineageEmpty, false);
            left.deregistered = true;
            assert.equal((await nextGenerationTags(INPUTS, {})).lineageEmpty, false, "its tagged snapshots still count");
        });

        it("one more than the newest image or snapshot of the lineage (an orphan snapshot's generation is never reused)", async function () {
            generation(1);
            generation(3);
            const lost = generation(5);
            lost.deregistered = true; // deregistered out of band: its snapshots are left, tagged
            ec2.seedImage({ id: "ami-0other", name: "x", tags: { [LINEAGE_TAGS.lineage]: "another", [LINEAGE_TAGS.generation]: "9" } });
            assert.equal((await nextGenerationTags(INPUTS, {})).tags[LINEAGE_TAGS.generation], "6");
            lost.snapshotIds.forEach((id) => { ec2.snapshots.get(id)!.deleted = true; });
            assert.equal((await nextGenerationTags(INPUTS, {})).tags[LINEAGE_TAGS.generation], "4");
        });

        it("images and snapshots without a valid generation count as none", async function () {
            ec2.seedImage({ id: "ami-0bad", name: "bad", tags: { [LINEAGE_TAGS.lineage]: LINEAGE, [LINEAGE_TAGS.generation]: "two" } }, undefined, { [LINEAGE_TAGS.lineage]: LINEAGE });
            assert.equal((await nextGenerationTags(INPUTS, {})).tags[LINEAGE_TAGS.generation], "1");
        });

        it("a retried create that finds its own image by tag: the same generation, no snapshot look", async function () {
            generation(2);
            generation(4, { name: INPUTS.name });
            generation(6);
            ec2.calls.length = 0;
            assert.equal((await nextGenerationTags(INPUTS, {})).tags[LINEAGE_TAGS.generation], "4");
            assert.equal(countByAction(ec2.calls).DescribeSnapshots, undefined);
        });

        it("a retried create whose image has no generation tag: generation 1", async function () {
            ec2.seedImage({ id: "ami-0same", name: INPUTS.name, tags: { [LINEAGE_TAGS.lineage]: LINEAGE } });
            generation(3);
            assert.equal((await nextGenerationTags(INPUTS, {})).tags[LINEAGE_TAGS.generation], "1");
        });
    });

    describe("retireAndRetain", function () {
        it("retires every older live generation (deprecated a minute from now, tagged), keeps the newest 2, removes the rest with their snapshots", async function () {
            const old = [1, 2, 3, 4].map((n) => generation(n));
            const now = generation(5);
            const newer = generation(6);
            const report = await retireAndRetain(INPUTS, current(now), clock, progress);
            for (const image of old.slice(2)) {
                assert.equal(image.tags[LINEAGE_TAGS.retiredAt], iso(clock.now()));
                assert.equal(image.deprecationTime, iso(clock.now() + 60_000));
            }
            assert.deepEqual(liveImages(), [old[2].id, old[3].id, now.id, newer.id].sort());
            for (const image of old.slice(0, 2)) assert.ok(image.snapshotIds.every((id) => ec2.snapshots.get(id)!.deleted), `${image.id}'s snapshots deleted`);
            assert.equal(now.tags[LINEAGE_TAGS.retiredAt], undefined);
            assert.equal(newer.tags[LINEAGE_TAGS.retiredAt], undefined);
            assert.deepEqual(report, {
                kept: [
                    { imageId: old[3].id, generation: 4, reason: "one of the newest 2 retired generations (retention.keep)" },
                    { imageId: old[2].id, generation: 3, reason: "one of the newest 2 retired generations (retention.keep)" },
                ],
                removed: [{ imageId: old[1].id, generation: 2 }, { imageId: old[0].id, generation: 1 }],
            });
            assert.ok(said.includes(`retiring ${old[0].id} (generation 1): deprecated, left registered`), said.join("\n"));
            assert.ok(said.includes(`retention: deregistering ${old[1].id} (generation 2) and deleting its snapshots`), said.join("\n"));
            assert.ok(said.includes(`retention: keeping ${old[3].id} (generation 4): one of the newest 2 retired generations (retention.keep)`), said.join("\n"));
            assert.equal(countByAction(ec2.calls).EnableImageDeprecation, 4);
        });

        it("another image of the current generation is not an older one: neither retired nor removed", async function () {
            const twin = ec2.seedImage({ id: "ami-0twin", name: "twin", tags: { [LINEAGE_TAGS.lineage]: LINEAGE, [LINEAGE_TAGS.generation]: "2" } });
            const now = generation(2);
            const report = await retireAndRetain({ ...INPUTS, retention: { keep: 0, launchedWithin: "0s" } }, current(now), clock, progress);
            assert.deepEqual(report, { kept: [], removed: [] });
            assert.equal(twin.tags[LINEAGE_TAGS.retiredAt], undefined);
            assert.equal(twin.deregistered, false);
        });

        it("with one generation removed and one kept, the kept one's snapshots are not orphans", async function () {
            const [g1, g2] = [1, 2].map((n) => generation(n));
            const report = await retireAndRetain({ ...INPUTS, retention: { keep: 1, launchedWithin: "0s" } }, current(generation(3)), clock, progress);
            assert.deepEqual(report.removed.map((r) => r.imageId), [g1.id]);
            for (const id of g2.snapshotIds) assert.equal(ec2.snapshots.get(id)!.deleted, false, id);
        });

        it("an orphan snapshot that cannot be deleted: the error names it and the lineage", async function () {
            const orphan = generation(1);
            orphan.deregistered = true;
            ec2.fail("DeleteSnapshot", awsError("InvalidSnapshot.InUse", "in use"));
            const err = await rejection(retireAndRetain(INPUTS, current(generation(2)), clock, progress));
            assert.ok(err.message.startsWith(`golden-ami: deleting snapshot ${orphan.snapshotIds[0]} of lineage ${LINEAGE} in ${REGION} failed: InvalidSnapshot.InUse: in use.`), err.message);
        });

        it("an image of the lineage without a generation tag counts as generation 0: retired and removed", async function () {
            const stray = ec2.seedImage({ id: "ami-0stray", name: "stray", tags: { [LINEAGE_TAGS.lineage]: LINEAGE } });
            const now = generation(2);
            const report = await retireAndRetain({ ...INPUTS, retention: { keep: 0, launchedWithin: "0s" } }, current(now), clock, progress);
            assert.deepEqual(report.removed, [{ imageId: stray.id, generation: 0 }]);
            assert.ok(said.includes(`retiring ${stray.id} (generation undefined): deprecated, left registered`), said.join("\n"));
        });

        it("a generation retired before is not retired again; a deprecation already sooner is left as it is", async function () {
            const before = clock.now() - 3 * DAY;
            const retired = generation(1, {}, retiredTag(before));
            const soon = generation(2, { deprecationTime: iso(clock.now() + 30_000) });
            const later = generation(3, { deprecationTime: iso(clock.now() + 60_001) });
            await retireAndRetain({ ...INPUTS, retention: { keep: 5 } }, current(generation(4)), clock, progress);
            const deprecated = ec2.calls.filter((c) => c.action === "EnableImageDeprecation").map((c) => c.input.ImageId);
            assert.deepEqual(deprecated, [later.id]);
            assert.equal(retired.tags[LINEAGE_TAGS.retiredAt], iso(before));
            assert.equal(soon.tags[LINEAGE_TAGS.retiredAt], iso(clock.now()));
        });

        it("asks who references an image only for those neither count nor age keeps, and keeps a referenced one", async function () {
            const [g1, g2, g3] = [1, 2, 3].map((n) => generation(n));
            ec2.references.push({ region: REGION, ImageId: g1.id, ResourceType: "ec2:Instance", Arn: "arn:aws:ec2:eu-west-1:123:instance/i-1" });
            const report = await retireAndRetain({ ...INPUTS, retention: { keep: 1 } }, current(generation(4)), clock, progress);
            const asked = ec2.calls.filter((c) => c.action === "DescribeImageReferences").map((c) => c.input.ImageIds);
            assert.deepEqual(asked, [[g2.id, g1.id]]);
            assert.deepEqual(report.kept.map((k) => [k.imageId, k.reason]), [
                [g3.id, "one of the newest 1 retired generations (retention.keep)"],
                [g1.id, "still referenced by arn:aws:ec2:eu-west-1:123:instance/i-1"],
            ]);
            assert.deepEqual(report.removed, [{ imageId: g2.id, generation: 2 }]);
        });

        it("no reference look when count keeps every retired generation", async function () {
            generation(1);
            await retireAndRetain(INPUTS, current(generation(2)), clock, progress);
            assert.equal(countByAction(ec2.calls).DescribeImageReferences, undefined);
        });

        it("keeps a generation retired less than minAge ago, removes one retired longer ago", async function () {
            const recent = generation(1, {}, retiredTag(clock.now() - 2 * DAY));
            const old = generation(2, {}, retiredTag(clock.now() - 4 * DAY));
            // Generation 2 is newer but retired earlier (retired by hand, say): age, not order, decides.
            const report = await retireAndRetain({ ...INPUTS, retention: { keep: 0, minAge: "3d", launchedWithin: "0s" } }, current(generation(3)), clock, progress);
            assert.deepEqual(report.kept.map((k) => k.imageId), [recent.id]);
            assert.match(report.kept[0].reason, /less than retention\.minAge ago/);
            assert.deepEqual(report.removed, [{ imageId: old.id, generation: 2 }]);
            assert.deepEqual(countByAction(ec2.calls).DescribeImageReferences, 1);
        });

        it("keeps a generation launched from within launchedWithin; an unreadable or old launch time keeps nothing", async function () {
            const launched = generation(1, { lastLaunchedTime: iso(clock.now() - 2 * DAY) });
            const stale = generation(2, { lastLaunchedTime: iso(clock.now() - 20 * DAY) });
            const garbled = generation(3, { lastLaunchedTime: "not a time" });
            const report = await retireAndRetain({ ...INPUTS, retention: { keep: 0 } }, current(generation(4)), clock, progress);
            assert.deepEqual(report.kept, [{
                imageId: launched.id, generation: 1,
                reason: `an instance was launched from it at ${iso(clock.now() - 2 * DAY)}, within retention.launchedWithin`,
            }]);
            assert.deepEqual(report.removed.map((r) => r.imageId), [garbled.id, stale.id]);
        });

        it("keeps a generation under deregistration protection", async function () {
            const guarded = generation(1, { protection: "enabled-without-cooldown" });
            const report = await retireAndRetain({ ...INPUTS, retention: { keep: 0 } }, current(generation(2)), clock, progress);
            assert.deepEqual(report.kept.map((k) => k.imageId), [guarded.id]);
            assert.deepEqual(report.removed, []);
            assert.deepEqual(liveImages().includes(guarded.id), true);
        });

        it("deletes the lineage's orphan snapshots, never the current image's (not listed by tag yet) nor a kept one's", async function () {
            const kept = generation(1);
            const now = generation(2);
            const orphan = generation(3);
            orphan.deregistered = true;
            // The current image is not listed by tag yet (eventual consistency): only its snapshot IDs protect them.
            now.tags = {};
            const report = await retireAndRetain(INPUTS, { ...current(now), generation: 2 }, clock, progress);
            assert.deepEqual(report.removed, []);
            for (const id of [...kept.snapshotIds, ...now.snapshotIds]) assert.equal(ec2.snapshots.get(id)!.deleted, false, id);
            for (const id of orphan.snapshotIds) assert.equal(ec2.snapshots.get(id)!.deleted, true, id);
        });
    });

    describe("retentionDue (read-only, for diff)", function () {
        const report = (imageId = "ami-0x") => ({ kept: [{ imageId, generation: 1, reason: "r" }], removed: [] });

        it("false, with no call, without a report, with nothing kept, or without a generation", async function () {
            assert.equal(await retentionDue(INPUTS, undefined, 3, clock), false);
            assert.equal(await retentionDue(INPUTS, { kept: [], removed: [] }, 3, clock), false);
            assert.equal(await retentionDue(INPUTS, report(), undefined, clock), false);
            assert.equal(ec2.calls.length, 0);
        });

        it("true once a kept generation's reference is gone; false while it lasts; no change made either way", async function () {
            const g1 = generation(1, {}, retiredTag(clock.now() - DAY));
            generation(2);
            const inputs = { ...INPUTS, retention: { keep: 0, launchedWithin: "0s" } };
            ec2.references.push({ region: REGION, ImageId: g1.id, ResourceType: "ec2:Instance", Arn: "arn:i" });
            assert.equal(await retentionDue(inputs, report(g1.id), 2, clock), false);
            ec2.references.length = 0;
            assert.equal(await retentionDue(inputs, report(g1.id), 2, clock), true);
            const acted = ec2.calls.filter((c) => !c.action.startsWith("Describe"));
            assert.deepEqual(acted, []);
        });

        it("only generations older than the current count; count and age keep without a reference look", async function () {
            generation(1, {}, retiredTag(clock.now() - DAY));
            generation(2, {}, retiredTag(clock.now() - DAY));
            assert.equal(await retentionDue({ ...INPUTS, retention: { keep: 0 } }, report(), 1, clock), false);
            assert.equal(await retentionDue({ ...INPUTS, retention: { keep: 1 } }, report(), 2, clock), false);
            assert.equal(await retentionDue({ ...INPUTS, retention: { keep: 0, minAge: "2d" } }, report(), 3, clock), false);
            assert.equal(countByAction(ec2.calls).DescribeImageReferences, undefined);
            assert.equal(await retentionDue({ ...INPUTS, retention: { keep: 1, launchedWithin: "0s" } }, report(), 3, clock), true);
        });

        it("a launch within launchedWithin keeps it; once the window has passed, it is due", async function () {
            const g1 = generation(1, { lastLaunchedTime: iso(clock.now() - 2 * DAY) }, retiredTag(clock.now() - 3 * DAY));
            const inputs = { ...INPUTS, retention: { keep: 0, launchedWithin: "7d" } };
            assert.equal(await retentionDue(inputs, report(g1.id), 2, clock), false);
            clock.time += 6 * DAY;
            assert.equal(await retentionDue(inputs, report(g1.id), 2, clock), true);
        });
    });

    describe("newerLiveGeneration (a replacement's sign)", function () {
        it("another live image of this generation or newer, not failed", async function () {
            const self = generation(3);
            assert.equal(await newerLiveGeneration(INPUTS, self.id, 3), undefined, "itself is no sign");
            generation(2);
            assert.equal(await newerLiveGeneration(INPUTS, self.id, 3), undefined, "an older one is no sign");
            generation(4, { states: ["failed"] });
            generation(5, {}, retiredTag(clock.now()));
            assert.equal(await newerLiveGeneration(INPUTS, self.id, 3), undefined, "neither a failed nor a retired one is");
            const same = ec2.seedImage({ id: "ami-0same", name: "web-3b", tags: { [LINEAGE_TAGS.lineage]: LINEAGE, [LINEAGE_TAGS.generation]: "3" } });
            assert.equal((await newerLiveGeneration(INPUTS, self.id, 3))?.ImageId, same.id);
        });

        it("an image of the lineage without a generation is generation 0", async function () {
            const self = generation(1);
            const untagged = ec2.seedImage({ id: "ami-0untagged", name: "u", tags: { [LINEAGE_TAGS.lineage]: LINEAGE } });
            assert.equal(await newerLiveGeneration(INPUTS, self.id, 1), undefined);
            assert.equal((await newerLiveGeneration(INPUTS, self.id, 0))?.ImageId, untagged.id);
        });
    });

    describe("retireOne", function () {
        it("retires a live image; leaves a retired one alone", async function () {
            const live = generation(1);
            await retireOne(REGION, await looked(live), clock);
            assert.equal(live.tags[LINEAGE_TAGS.retiredAt], iso(clock.now()));
            ec2.calls.length = 0;
            await retireOne(REGION, await looked(live), clock);
            assert.deepEqual(ec2.calls.map((c) => c.action), ["DescribeImages"], "only the look of the test itself");
        });
    });

    describe("removeLineage (destroy)", function () {
        it("every generation and its snapshots, but the one kept and the protected ones (returned), and orphans", async function () {
            const [g1, g2] = [1, 2].map((n) => generation(n));
            const guarded = generation(3, { protection: "enabled-with-cooldown" });
            const keep = generation(4, { protection: "enabled-without-cooldown" });
            const orphan = generation(5);
            orphan.deregistered = true;
            const left = await removeLineage(INPUTS, { imageId: keep.id, snapshotIds: keep.snapshotIds }, progress);
            assert.deepEqual(left.map((g) => g.imageId), [guarded.id]);
            assert.deepEqual(liveImages(), [guarded.id, keep.id].sort());
            for (const id of [...g1.snapshotIds, ...g2.snapshotIds, ...orphan.snapshotIds]) assert.equal(ec2.snapshots.get(id)!.deleted, true, id);
            for (const id of [...guarded.snapshotIds, ...keep.snapshotIds]) assert.equal(ec2.snapshots.get(id)!.deleted, false, id);
            assert.deepEqual(said, [
                `deregistering ${g1.id} (generation 1) and deleting its snapshots`,
                `deregistering ${g2.id} (generation 2) and deleting its snapshots`,
            ]);
        });

        it("without one to keep: everything not protected", async function () {
            const g1 = generation(1);
            const keepSnapshots = generation(2);
            keepSnapshots.tags = {}; // not listed by tag: its snapshots are orphans unless kept
            assert.deepEqual(await removeLineage(INPUTS, undefined, progress), []);
            assert.equal(g1.deregistered, true);
            for (const id of keepSnapshots.snapshotIds) assert.equal(ec2.snapshots.get(id)!.deleted, true, id);
        });

        it("the image kept (not protected) is left, with its snapshots; a protected one is left without one to keep", async function () {
            const keep = generation(1);
            const gone = generation(2);
            await removeLineage(INPUTS, { imageId: keep.id, snapshotIds: keep.snapshotIds }, progress);
            assert.deepEqual(liveImages(), [keep.id]);
            assert.equal(gone.deregistered, true);
            const guarded = generation(3, { protection: "enabled-without-cooldown" });
            const left = await removeLineage(INPUTS, undefined, progress);
            assert.deepEqual(left.map((g) => g.imageId), [guarded.id]);
            assert.deepEqual(liveImages(), [guarded.id]);
        });

        it("the kept image's snapshots survive even when it is not listed by tag", async function () {
            const keep = generation(1);
            keep.tags = {};
            await removeLineage(INPUTS, { imageId: keep.id, snapshotIds: keep.snapshotIds }, progress);
            for (const id of keep.snapshotIds) assert.equal(ec2.snapshots.get(id)!.deleted, false, id);
        });
    });

    describe("tagBuildTime", function () {
        it("tags the image and its snapshots with EC2's CreationDate", async function () {
            const g = generation(1, { creationDate: "2026-03-04T05:06:07.000Z" });
            const image = await looked(g);
            await tagBuildTime(REGION, image, clock.now());
            assert.equal(g.tags[LINEAGE_TAGS.builtAt], "2026-03-04T05:06:07.000Z");
            for (const id of g.snapshotIds) assert.equal(ec2.snapshots.get(id)!.tags[LINEAGE_TAGS.builtAt], "2026-03-04T05:06:07.000Z");
            assert.ok(image.Tags!.some((t) => t.Key === LINEAGE_TAGS.builtAt && t.Value === "2026-03-04T05:06:07.000Z"), "the image in hand says so too");
        });

        for (const [what, creationDate] of [["unreadable", "garbled"], ["missing", ""]] as const) {
            it(`a ${what} CreationDate: the time now`, async function () {
                const g = generation(1, { creationDate });
                const image = await looked(g);
                if (!creationDate) delete image.CreationDate;
                await tagBuildTime(REGION, image, clock.now());
                assert.equal(g.tags[LINEAGE_TAGS.builtAt], iso(clock.now()));
            });
        }

        it("nothing for an image without a lineage, or tagged already", async function () {
            const plain = ec2.seedImage({ id: "ami-0plain", name: "plain" });
            await tagBuildTime(REGION, await looked(plain), clock.now());
            const done = generation(1, {}, { [LINEAGE_TAGS.builtAt]: "2026-01-02T00:00:00.000Z" });
            await tagBuildTime(REGION, await looked(done), clock.now());
            assert.equal(countByAction(ec2.calls).CreateTags, undefined);
            assert.equal(plain.tags[LINEAGE_TAGS.builtAt], undefined);
        });
    });
});
