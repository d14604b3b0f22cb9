// The completion window: when a snapshot's progress will reach 100%, bounded on both sides
// by what EC2's truncated readings (whole percents, StartTime resolution) allow.
import * as assert from "node:assert/strict";
import { lastOf, ProgressEstimator, timestampResolutionMs } from "../../providers/ec2/completion";

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 123); // a StartTime to the millisecond, as EC2 gives it
const s = (seconds: number) => seconds * 1000;

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
    });
});
