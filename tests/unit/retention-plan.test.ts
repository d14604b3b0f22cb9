// The retention plan as data (providers/core/lineage.ts): which retired generations stay and
// why, which go, and which retention.disableAfter disables.
import * as assert from "node:assert/strict";
import { disableDue, GenerationImage, planDisable, planRetention, retentionPolicy, UsageFacts } from "../../providers/core/lineage";

const DAY = 86_400_000;
const NOW = Date.parse("2026-06-01T00:00:00Z");
const none: UsageFacts = { references: new Map(), lastLaunched: new Map() };

function gen(generation: number, retiredDaysAgo: number, extra: Partial<GenerationImage> = {}): GenerationImage {
    return { imageId: `ami-${String(generation).padStart(17, "0")}`, generation, retiredAt: NOW - retiredDaysAgo * DAY, protected: false, snapshotIds: [`snap-${generation}`], ...extra };
}

describe("retention plan: keep, remove, disable", function () {
    it("retentionPolicy: disableAfter unset means never; a duration is read in milliseconds", function () {
        assert.equal(retentionPolicy({}).disableAfterMs, undefined);
        assert.equal(retentionPolicy({ disableAfter: "30d" }).disableAfterMs, 30 * DAY);
        assert.equal(retentionPolicy({ disableAfter: "0s" }).disableAfterMs, 0);
    });

    it("disables only the kept generations retired at least disableAfter ago, not disabled already", function () {
        const policy = retentionPolicy({ keep: 5, disableAfter: "30d", launchedWithin: "0s" });
        const kept = [gen(4, 1), gen(3, 31), gen(2, 30), gen(1, 60, { disabled: true })];
        assert.deepEqual(planDisable(kept, policy, NOW, none).map((g) => g.generation), [3, 2]);
        assert.deepEqual(planDisable(kept, retentionPolicy({ keep: 5 }), NOW, none), [], "no disableAfter: nothing disabled");
    });

    it("never disables a referenced generation, nor one launched from within launchedWithin", function () {
        const policy = retentionPolicy({ keep: 5, disableAfter: "1d", launchedWithin: "7d" });
        const kept = [gen(3, 10), gen(2, 10), gen(1, 10)];
        const usage: UsageFacts = {
            references: new Map([[kept[0].imageId, ["arn:aws:ec2:us-east-1:123456789012:launch-template/lt-1"]]]),
            lastLaunched: new Map([[kept[1].imageId, NOW - 2 * DAY], [kept[2].imageId, NOW - 8 * DAY]]),
        };
        assert.deepEqual(planDisable(kept, policy, NOW, usage).map((g) => g.generation), [1]);
        assert.deepEqual(disableDue(kept, policy, NOW).map((g) => g.generation), [3, 2, 1], "all three are due before usage is known");
    });

    it("a disabled generation still counts: it is one of the kept (by count) or removed like any other", function () {
        const retired = [gen(3, 5, { disabled: true }), gen(2, 6, { disabled: true }), gen(1, 7, { disabled: true })];
        const plan = planRetention(retired, retentionPolicy({ keep: 1, launchedWithin: "0s", disableAfter: "1d" }), NOW, none);
        assert.deepEqual(plan.kept.map((k) => k.generation), [3]);
        assert.deepEqual(plan.remove.map((g) => g.generation), [2, 1]);
    });
});
