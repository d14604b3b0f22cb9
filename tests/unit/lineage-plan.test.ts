// providers/core/lineage.ts: generations as data — the generation tag read, durations, and the
// boundaries of the retention plan's reasons (the plan carried out is tests/unit/retention.test.ts).
import * as assert from "node:assert/strict";
import { generationOf, LINEAGE_TAGS, parseDuration, planRetention, retentionPolicy } from "../../providers/core/lineage";

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

describe("lineage as data (providers/core/lineage.ts)", function () {
    it("generationOf: a positive whole number only", function () {
        const of = (v: string | undefined) => generationOf(v === undefined ? {} : { [LINEAGE_TAGS.generation]: v });
        assert.equal(of("3"), 3);
        assert.equal(of("1"), 1);
        for (const bad of [undefined, "0", "-2", "2.5", "two", ""]) assert.equal(of(bad), undefined, String(bad));
    });

    it("parseDuration: one or several parts of s, m, h, d, w, decimals included, spaces around allowed", function () {
        assert.equal(parseDuration("90s"), 90_000);
        assert.equal(parseDuration("12h"), 12 * 3_600_000);
        assert.equal(parseDuration("1.5h"), 5_400_000);
        assert.equal(parseDuration("1.25h"), 4_500_000);
        assert.equal(parseDuration("1d12h"), 36 * 3_600_000);
        assert.equal(parseDuration("2w"), 14 * DAY);
        assert.equal(parseDuration("30m"), 1_800_000);
        assert.equal(parseDuration(" 7d "), 7 * DAY);
        assert.equal(parseDuration("0s"), 0);
    });

    it("parseDuration: anything else is undefined", function () {
        for (const bad of ["", "d", "7", "7x", "x7d", "7d!", "1d 2h", "1.d", "1.xh", "-1d", "7 days"]) assert.equal(parseDuration(bad), undefined, bad);
        for (const bad of [7, undefined, null, {}]) assert.equal(parseDuration(bad), undefined, String(bad));
    });

    it("retentionPolicy: defaults 2, 0 s and 14 d; given values in milliseconds", function () {
        assert.deepEqual(retentionPolicy(undefined), { keep: 2, minAgeMs: 0, launchedWithinMs: 14 * DAY, disableAfterMs: undefined });
        assert.deepEqual(retentionPolicy({ keep: 0, minAge: "1h", launchedWithin: "0s" }), { keep: 0, minAgeMs: 3_600_000, launchedWithinMs: 0, disableAfterMs: undefined });
    });

    describe("planRetention's reasons at their boundaries", function () {
        const image = { imageId: "ami-1", generation: 1, retiredAt: NOW - 30 * DAY, protected: false, snapshotIds: [] };
        const plan = (usage: { references?: Map<string, string[]>; lastLaunched?: Map<string, number> }, policy = retentionPolicy({ keep: 0, launchedWithin: "7d" })) =>
            planRetention([image], policy, NOW, { references: usage.references ?? new Map(), lastLaunched: usage.lastLaunched ?? new Map() });

        it("every referencing ARN named", function () {
            assert.deepEqual(plan({ references: new Map([["ami-1", ["arn:a", "arn:b"]]]) }).kept, [{ imageId: "ami-1", generation: 1, reason: "still referenced by arn:a, arn:b" }]);
            assert.equal(plan({ references: new Map([["ami-1", []]]) }).remove.length, 1, "an empty reference list keeps nothing");
        });

        it("launched exactly launchedWithin ago: no longer kept; a millisecond later than that: kept", function () {
            assert.equal(plan({ lastLaunched: new Map([["ami-1", NOW - 7 * DAY]]) }).remove.length, 1);
            assert.deepEqual(plan({ lastLaunched: new Map([["ami-1", NOW - 7 * DAY + 1]]) }).kept.map((k) => k.reason), [
                `an instance was launched from it at ${new Date(NOW - 7 * DAY + 1).toISOString()}, within retention.launchedWithin`,
            ]);
        });

        it("retired exactly minAge ago: no longer kept by age", function () {
            const policy = retentionPolicy({ keep: 0, minAge: "30d", launchedWithin: "0s" });
            assert.equal(plan({}, policy).remove.length, 1);
            assert.equal(plan({}, retentionPolicy({ keep: 0, minAge: "31d", launchedWithin: "0s" })).kept.length, 1);
        });

        it("protection keeps, with what to do", function () {
            const kept = planRetention([{ ...image, protected: true }], retentionPolicy({ keep: 0 }), NOW, { references: new Map(), lastLaunched: new Map() }).kept;
            assert.deepEqual(kept.map((k) => k.reason), ["deregistration protection is on (disable it to let retention remove this generation)"]);
        });
    });
});
