// The completion window: when a snapshot's progress will reach 100%, bounded on both sides
// by what EC2's truncated readings (whole percents, StartTime resolution) allow.
import * as assert from "node:assert/strict";
import { lastOf, ProgressEstimator, timestampResolutionMs } from "../../providers/ec2/completion";

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 123); // a StartTime to the millisecond, as EC2 gives it
const s = (seconds: number) => seconds * 1000;

/** Equal to the millisecond or better (the estimates are floating point). */
function near(actual: number, expected: number, what: string): void {
    assert.ok(Math.abs(actual - expected) < 1, `${what}: ${(actual - t0) / 1000} s, expected ${(expected - t0) / 1000} s (from t0)`);
}

describe("completion window (ProgressEstimator)", function () {
    it("judges a timestamp's resolution from its value", function () {
        assert.equal(timestampResolutionMs(Date.UTC(2026, 0, 1, 12, 0, 0)), 1000);
        assert.equal(timestampResolutionMs(Date.UTC(2026, 0, 1, 12, 0, 0, 300)), 1);
        assert.equal(timestampResolutionMs(t0), 1);
    });

    it("from one reading and a millisecond StartTime: progress truncated to the percent bounds both ends", function () {
        // A 60 s snapshot read 2 s in: "3%" means 3-4%, so 100% comes 50-66.7 s after the start.
        const w = new ProgressEstimator().observe(3, t0 + s(2), t0)!;
        assert.ok(Math.abs(w.earliest - (t0 + s(50))) <= 50, `earliest ${w.earliest - t0}`);
        assert.ok(Math.abs(w.latest! - (t0 + s(200 / 3))) <= 50, `latest ${w.latest! - t0}`);
        // Read later, the same truncation costs less: "83%" at 50 s → 59.5-60.2 s.
        const later = new ProgressEstimator().observe(83, t0 + s(50), t0)!;
        assert.ok(later.earliest >= t0 + s(59.5) - 50 && later.latest! <= t0 + s(60.25), JSON.stringify({ e: later.earliest - t0, l: later.latest! - t0 }));
        assert.ok(later.latest! - later.earliest < 1_000);
    });

    it("a whole-second StartTime may be up to a second early: the window widens on the early side only", function () {
        const start = Date.UTC(2026, 0, 1, 12, 0, 0);
        const exact = new ProgressEstimator().observe(50, start + s(30), start + 1)!;
        const truncated = new ProgressEstimator().observe(50, start + s(30), start)!;
        assert.ok(truncated.earliest < exact.earliest, "the real start may be later, so completion may be sooner");
        assert.equal(truncated.latest, start + s(60), "latest: the reported start + 30 s × 100 / 50");
    });

    it("the true completion is always inside the window, for steady progress read at any moment", function () {
        for (const durationS of [10, 60, 600]) {
            for (const startMs of [0, 1, 250, 999]) {
                const realStart = Date.UTC(2026, 0, 1) + startMs;
                const reported = Date.UTC(2026, 0, 1); // whole-second StartTime: truncated
                const end = realStart + s(durationS);
                const e = new ProgressEstimator();
                for (let at = realStart + 500; at < end; at += s(durationS) / 37) {
                    const percent = Math.floor(((at - realStart) / (end - realStart)) * 100);
                    const w = e.observe(percent, at, reported);
                    if (percent < 1) {
                        assert.equal(w, undefined, "no estimate from 0%");
                        continue;
                    }
                    assert.ok(w && w.earliest <= end + 1, `${durationS} s: earliest ${w?.earliest} after the end ${end}`);
                    assert.ok(w.latest === undefined || w.latest >= end - 1, `${durationS} s: latest ${w.latest} before the end ${end}`);
                }
            }
        }
    });

    it("without a StartTime, two readings give the rate; truncation of both bounds the window", function () {
        const e = new ProgressEstimator();
        assert.equal(e.observe(10, t0), undefined);
        const w = e.observe(20, t0 + s(10))!;
        // 9-11 %/s... per 10 s: gained between 9 and 11 points; 80-81 to go.
        assert.ok(w.earliest >= t0 + s(10) + s((100 - 21) / 1.1) - 1 && w.earliest <= t0 + s(90));
        assert.ok(w.latest! >= t0 + s(90) && w.latest! <= t0 + s(10) + s(80 / 0.9) + 1);
    });

    it("is unknown for a flat or single reading without a StartTime, and starts over when progress drops", function () {
        const e = new ProgressEstimator();
        assert.equal(e.observe(10, t0), undefined);
        assert.equal(e.observe(10, t0), undefined, "no time has passed");
        e.observe(50, t0 + s(40));
        assert.equal(e.observe(5, t0 + s(50)), undefined, "a new run: the old rate no longer applies");
        const w = e.observe(15, t0 + s(70))!;
        assert.ok(w.earliest > t0 + s(70) + s(100) && w.earliest < t0 + s(70) + s(200), `${(w.earliest - t0) / 1000}`);
    });

    it("the window of several snapshots is the last one's; unknown if any is unknown", function () {
        assert.deepEqual(lastOf([{ earliest: 5, latest: 9 }, { earliest: 7, latest: 8 }]), { earliest: 7, latest: 9 });
        assert.deepEqual(lastOf([{ earliest: 5, latest: 9 }, { earliest: 7 }]), { earliest: 7, latest: undefined });
        assert.equal(lastOf([{ earliest: 5, latest: 9 }, undefined]), undefined);
        assert.equal(lastOf([]), undefined, "no snapshots: nothing to predict (not a window from -Infinity)");
    });

    it("estimates from 1% on, and not at 100% (nothing is left to predict)", function () {
        // "1%" at 2 s after a millisecond StartTime: 1-2 %, so 100% comes about 100-200 s after the start.
        const one = new ProgressEstimator().observe(1, t0 + s(2), t0)!;
        near(one.earliest, t0 + 1 + (s(2) - 1) * (100 / 2), "earliest: from up to 1 ms after the StartTime, at 2%");
        near(one.latest!, t0 + s(2) * (100 / 1), "latest: 2 s × 100 / 1%");
        const e = new ProgressEstimator();
        assert.ok(e.observe(50, t0 + s(50), t0));
        assert.equal(e.observe(100, t0 + s(60), t0), undefined);
    });

    it("a StartTime at or after the look (clock skew) bounds nothing: the window has no end", function () {
        // EC2's StartTime comes from its clock, the look's time from ours.
        assert.deepEqual(new ProgressEstimator().observe(2, t0, t0), { earliest: t0, latest: undefined });
        assert.deepEqual(new ProgressEstimator().observe(2, t0, t0 + s(5)), { earliest: t0, latest: undefined });
    });

    it("progress flat or up one point between two looks bounds only the early side of the rate window", function () {
        // 10% then 11%: the real rise may be anything from 0 to 2 points, so no slowest rate.
        const e = new ProgressEstimator();
        e.observe(10, t0);
        const w = e.observe(11, t0 + s(10))!;
        near(w.earliest, t0 + s(10) + (100 - 12) * (s(10) / (12 - 10)), "earliest: 88 points at the fastest 2 per 10 s");
        assert.equal(w.latest, undefined);
    });

    it("a repeated reading keeps the first one: the rate is measured from when that percent was first seen", function () {
        const e = new ProgressEstimator();
        e.observe(10, t0);
        const flat = e.observe(10, t0 + s(10))!;
        // Up to one point in 10 s (10.0 → 10.99): 89 points to go at most that fast.
        near(flat.earliest, t0 + s(10) + 89 * s(10), "earliest: from the first 10%");
        assert.equal(flat.latest, undefined, "a flat reading gives no slowest rate");
        const w = e.observe(20, t0 + s(20))!;
        // From 10% at 0 s to 20% at 20 s: 9-11 points in 20 s.
        near(w.earliest, t0 + s(20) + (100 - 21) * (s(20) / (21 - 10)), "earliest at the fastest rate since 0 s");
        near(w.latest!, t0 + s(20) + (100 - 20) * (s(20) / (20 - 11)), "latest at the slowest rate since 0 s");
    });

    it("two equal exact (fractional) readings give no rate, not a window at infinity", function () {
        const e = new ProgressEstimator();
        assert.equal(e.observe(10.5, t0), undefined);
        assert.equal(e.observe(10.5, t0 + s(10)), undefined);
        const w = e.observe(20.5, t0 + s(20))!;
        near(w.earliest, t0 + s(20) + 79.5 * (s(20) / 10), "exact readings: 10 points in 20 s, 79.5 to go");
        near(w.latest!, w.earliest, "exact readings: a window of no width");
    });

    describe("the start window and the rate window together", function () {
        it("steady progress: their intersection, here the rate's early side and the start's late side", function () {
            // A 100 s snapshot with a whole-second StartTime (the real start may be up to 1 s later).
            const start = Date.UTC(2026, 0, 1, 12, 0, 0);
            const e = new ProgressEstimator();
            e.observe(10, start + s(10), start);
            const w = e.observe(50, start + s(50), start)!;
            // From the start: earliest start + 1 s + 49 s × 100 / 51 ≈ 97.1 s, latest 50 s × 100 / 50 = 100 s.
            // From the rate (10% at 10 s → 50% at 50 s: 39-41 points in 40 s): 97.8-101.3 s.
            near(w.earliest, start + s(50) + 49 * (s(40) / 41), "earliest: the rate's (the later of the two)");
            near(w.latest!, start + s(100), "latest: the start's (the earlier of the two)");
        });

        it("readings that agree on a single moment: that moment", function () {
            // From the start (50% at 50 s): 98.0-100 s; from the rate (2% at 0 s → 50% at 50 s): 100-103.2 s.
            const e = new ProgressEstimator();
            e.observe(2, t0, t0);
            const w = e.observe(50, t0 + s(50), t0)!;
            assert.equal(w.earliest, t0 + s(100));
            assert.equal(w.latest, t0 + s(100));
        });

        it("a bounded start window and an unbounded rate window: the start's end bounds the result", function () {
            // 50% twice, 0.5 s apart: the rate has a fastest (1 point in 0.5 s) but no slowest.
            const e = new ProgressEstimator();
            e.observe(50, t0 + s(50), t0);
            const w = e.observe(50, t0 + s(50.5), t0)!;
            near(w.earliest, t0 + 1 + (s(50.5) - 1) * (100 / 51), "earliest: the start's (the rate's is 75 s)");
            near(w.latest!, t0 + s(50.5) * (100 / 50), "latest: the start's");
        });

        it("both unbounded: the later start of the two", function () {
            // A StartTime ahead of our clock gives {now, no end}; the flat rate gives its own start and no end.
            const e = new ProgressEstimator();
            e.observe(10, t0);
            assert.deepEqual(e.observe(10, t0 + s(10), t0 + s(15)), { earliest: t0 + s(10) + 89 * s(10), latest: undefined });
        });

        it("progress that sped up (sat at 0% first): they disagree, and the earlier one, the rate's, is taken", function () {
            // From the start (50% at 60 s): 117.6-120 s. From the rate (10% at 50 s → 50% at 60 s): 72.0-72.8 s.
            const e = new ProgressEstimator();
            e.observe(10, t0 + s(50), t0);
            const w = e.observe(50, t0 + s(60), t0)!;
            near(w.earliest, t0 + s(60) + 49 * (s(10) / 41), "earliest: the rate's");
            near(w.latest!, t0 + s(60) + 50 * (s(10) / 39), "latest: the rate's");
        });

        it("progress that slowed down: they disagree, and the earlier one, the start's, is taken", function () {
            // From the start (55% at 60 s): 107.1-109.1 s. From the rate (50% at 10 s → 55% at 60 s): 426.7-622.5 s.
            const e = new ProgressEstimator();
            e.observe(50, t0 + s(10), t0);
            const w = e.observe(55, t0 + s(60), t0)!;
            near(w.earliest, t0 + 1 + (s(60) - 1) * (100 / 56), "earliest: the start's");
            near(w.latest!, t0 + s(60) * (100 / 55), "latest: the start's");
        });
    });
});
