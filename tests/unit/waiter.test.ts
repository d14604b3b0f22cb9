// Unit tests of the one waiter (waitUntil), on virtual time.
import * as assert from "node:assert/strict";
import { GoldenAmiError } from "../../providers/core/errors";
import { formatDuration, minutes, Verdict, WaitDelays, WaitFailedError, WaitSpec, WaitTimeoutError, waitUntil } from "../../providers/ec2/waiter";
import { awsError, FakeClock, rejection } from "../support/fakes";

const DELAYS: WaitDelays = { minMs: 1_000, maxMs: 8_000, factor: 2, jitter: 0.2 };

/** A spec whose observe() hands out `script` in order (the last entry repeats); thrown entries are errors. */
function scripted(clock: FakeClock, script: Array<Verdict | Error>, extra: Partial<WaitSpec<Verdict>> = {}) {
    let looks = 0;
    const spec: WaitSpec<Verdict> = {
        description: "the thing to be ready",
        timeoutMs: 10 * 60_000,
        clock,
        random: () => 0.5,
        delays: DELAYS,
        observe: async () => {
            const entry = script[Math.min(looks, script.length - 1)];
            looks++;
            if (entry instanceof Error) throw entry;
            return entry;
        },
        judge: (v) => v,
        ...extra,
    };
    return { spec, looks: () => looks };
}

const pending = (status: string, expectedAt?: number, expectedBy?: number): Verdict => ({ state: "pending", status, expectedAt, expectedBy });
const done: Verdict = { state: "done" };

describe("waitUntil", function () {
    let clock: FakeClock;
    beforeEach(function () {
        clock = new FakeClock();
    });

    it("returns the observation at the first look when done: one look, no sleep", async function () {
        const { spec, looks } = scripted(clock, [done]);
        const result = await waitUntil(spec);
        assert.deepEqual(result, done);
        assert.equal(looks(), 1);
        assert.deepEqual(clock.sleeps, []);
    });

    it("looks again after pending, the delay growing by factor up to maxMs", async function () {
        const script = [...Array.from({ length: 6 }, (_, i) => pending(`step ${i}`)), done];
        const { spec, looks } = scripted(clock, script);
        const start = clock.now();
        await waitUntil(spec);
        assert.equal(looks(), 7);
        assert.deepEqual(clock.sleeps, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
        assert.equal(clock.now() - start, 31_000);
    });

    it("uses the default delays when none are given (1 s, ×1.5, at most 15 s)", async function () {
        const { spec } = scripted(clock, [...Array.from({ length: 9 }, () => pending("p")), done], { delays: undefined });
        await waitUntil(spec);
        assert.deepEqual(clock.sleeps, [1_000, 1_500, 2_250, 3_375, 5_062.5, 7_593.75, 11_390.625, 15_000, 15_000]);
    });

    it("a failed verdict throws WaitFailedError quoting the reason, without further looks", async function () {
        const { spec, looks } = scripted(clock, [pending("p"), { state: "failed", reason: "image ami-12345678 is failed: out of capacity" }, done]);
        const err = await rejection(waitUntil(spec));
        assert.ok(err instanceof WaitFailedError, String(err));
        assert.match(err.message, /out of capacity/);
        assert.match(err.message, /the thing to be ready/);
        assert.equal(err.reason, "image ami-12345678 is failed: out of capacity");
        // What the provider's error report and a caller's catch go by:
        assert.equal(err.name, "WaitFailedError");
        assert.equal(err.code, "WaitFailed");
        assert.equal(looks(), 2);
    });

    it("throttling from observe (RequestLimitExceeded, 503) counts as still waiting, then done", async function () {
        const throttled = awsError("RequestLimitExceeded", "Request limit exceeded.", 503);
        const { spec, looks } = scripted(clock, [throttled, throttled, pending("p"), done]);
        const result = await waitUntil(spec);
        assert.deepEqual(result, done);
        assert.equal(looks(), 4);
        assert.deepEqual(clock.sleeps, [1_000, 2_000, 4_000]);
    });

    it("an error that isTransient accepts is retried", async function () {
        const notYet = awsError("InvalidAMIID.NotFound", "The image id '[ami-12345678]' does not exist");
        const seen: unknown[] = [];
        const { spec, looks } = scripted(clock, [notYet, notYet, done], {
            isTransient: (err) => {
                seen.push(err);
                return (err as { Code?: string }).Code === "InvalidAMIID.NotFound";
            },
        });
        await waitUntil(spec);
        assert.equal(looks(), 3);
        assert.deepEqual(seen, [notYet, notYet]);
        assert.equal(clock.sleeps.length, 2);
    });

    it("any other error is rethrown at once, unchanged", async function () {
        const denied = awsError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403);
        const { spec, looks } = scripted(clock, [denied, done], { isTransient: () => false });
        const err = await rejection(waitUntil(spec));
        assert.equal(err, denied);
        assert.equal(looks(), 1);
        assert.deepEqual(clock.sleeps, []);
    });

    it("an error from judge that is not transient is rethrown too", async function () {
        const boom = new Error("judge broke");
        const { spec } = scripted(clock, [pending("p")], {
            judge: () => {
                throw boom;
            },
        });
        assert.equal(await rejection(waitUntil(spec)), boom);
    });

    it("times out with WaitTimeoutError carrying the last status and telling to run pulumi up again", async function () {
        let n = 0;
        const { spec, looks } = scripted(clock, [pending("x")], {
            timeoutMs: 20_000,
            judge: () => pending(`pending ${++n}`),
        });
        const start = clock.now();
        const err = await rejection(waitUntil(spec));
        assert.ok(err instanceof WaitTimeoutError, String(err));
        assert.equal(err.lastStatus, `pending ${looks()}`);
        assert.match(err.message, new RegExp(`last seen: pending ${looks()}`));
        assert.match(err.message, /run `pulumi up` again/);
        assert.match(err.message, /timed out after 20 s waiting for the thing to be ready/);
        assert.equal(err.name, "WaitTimeoutError");
        assert.equal(err.code, "WaitTimeout");
        // Never sleeps past the deadline: the last look is at the deadline itself.
        assert.equal(clock.now() - start, 20_000);
        assert.deepEqual(clock.sleeps, [1_000, 2_000, 4_000, 8_000, 5_000]);
    });

    it("a timeout right after throttling reports the last real status", async function () {
        const throttled = awsError("RequestLimitExceeded", "Request limit exceeded.", 503);
        const { spec } = scripted(clock, [pending("image pending"), throttled], { timeoutMs: 3_000 });
        const err = await rejection(waitUntil(spec));
        assert.ok(err instanceof WaitTimeoutError, String(err));
        assert.match(err.lastStatus, /^image pending/);
        assert.match(err.lastStatus, /RequestLimitExceeded/);
    });

    /** A judge that answers look i with verdicts[i](now), then done. */
    function judgeByLook(verdicts: Array<(now: number) => Verdict>): () => Verdict {
        let look = 0;
        return () => (look < verdicts.length ? verdicts[look++](clock.now()) : done);
    }

    it("with expectedAt the next sleep targets it, clamped to [minMs, maxMs]; then backoff restarts at minMs", async function () {
        const t0 = clock.now();
        const { spec } = scripted(clock, [], {
            judge: judgeByLook([
                () => pending("a"), // blind: 1000
                () => pending("b"), // blind: 2000
                (now) => pending("c", now + 3_500), // predicted: 3500
                (now) => pending("d", now + 100), // too soon: minMs
                (now) => pending("e", now + 60 * 60_000), // far away: maxMs
                (now) => pending("f", now - 5_000), // already past: minMs
                () => pending("g"), // blind again, backoff was reset: 1000
            ]),
            observe: async () => pending("ignored"),
        });
        await waitUntil(spec);
        assert.deepEqual(clock.sleeps, [1_000, 2_000, 3_500, 1_000, 8_000, 1_000, 1_000]);
        assert.equal(clock.now() - t0, 17_500);
    });

    it("a predicted window at most waitOutMs wide is waited out to its end; a wider one is looked at from its start", async function () {
        const t0 = clock.now();
        const { spec } = scripted(clock, [], {
            delays: { ...DELAYS, waitOutMs: 1_500 },
            judge: judgeByLook([
                (now) => pending("wide", now + 10_000, now + 20_000), // its start: 10000, clamped to maxMs
                (now) => pending("narrow", now + 3_000, now + 4_500), // its end: 4500
                (now) => pending("unbounded", now + 2_000), // no end known: its start, 2000
            ]),
            observe: async () => pending("ignored"),
        });
        await waitUntil(spec);
        assert.deepEqual(clock.sleeps, [8_000, 4_500, 2_000]);
        assert.equal(clock.now() - t0, 14_500);
    });

    it("waitOutMs scales with timeScale like every other delay", async function () {
        const { spec } = scripted(clock, [], {
            delays: { ...DELAYS, waitOutMs: 1_500 },
            timeScale: 0.1, // waitOutMs 150, minMs 100
            judge: judgeByLook([
                (now) => pending("200 ms wide", now + 300, now + 500), // wider than 150: its start
                (now) => pending("100 ms wide", now + 300, now + 400), // narrow: its end
            ]),
            observe: async () => pending("ignored"),
        });
        await waitUntil(spec);
        assert.deepEqual(clock.sleeps, [300, 400]);
    });

    it("calls onProgress only when the status text changes", async function () {
        const reported: string[] = [];
        const { spec } = scripted(clock, [pending("a"), pending("a"), pending("b"), pending("b"), pending("b"), pending("a"), done], {
            onProgress: (s) => reported.push(s),
        });
        await waitUntil(spec);
        assert.deepEqual(reported, ["a", "b", "a"]);
    });

    it("does not call onProgress for a done first look", async function () {
        const reported: string[] = [];
        const { spec } = scripted(clock, [done], { onProgress: (s) => reported.push(s) });
        await waitUntil(spec);
        assert.deepEqual(reported, []);
    });

    it("jitter stays within ±jitter of the delay, and reaches both ends", async function () {
        const delays: WaitDelays = { minMs: 1_000, maxMs: 1_000, factor: 1, jitter: 0.25 };
        const lows = new FakeClock();
        await waitUntil(scripted(lows, [pending("p"), pending("p"), done], { clock: lows, delays, random: () => 0 }).spec);
        assert.deepEqual(lows.sleeps, [750, 750]);

        const highs = new FakeClock();
        await waitUntil(scripted(highs, [pending("p"), done], { clock: highs, delays, random: () => 0.999999 }).spec);
        assert.ok(highs.sleeps[0] > 1_249 && highs.sleeps[0] < 1_250, String(highs.sleeps));

        const randomClock = new FakeClock();
        const script = [...Array.from({ length: 200 }, () => pending("p")), done];
        await waitUntil(scripted(randomClock, script, { clock: randomClock, delays, random: undefined }).spec);
        assert.equal(randomClock.sleeps.length, 200);
        for (const s of randomClock.sleeps) assert.ok(s >= 750 && s <= 1_250, `sleep ${s} outside ±25%`);
        // Math.random really spreads them (not all equal).
        assert.ok(new Set(randomClock.sleeps).size > 100);
    });

    it("consecutive retries show the last real status with one retry note (it does not grow)", async function () {
        const clock = new FakeClock();
        const throttled = awsError("RequestLimitExceeded", "slow down", 503);
        const reported: string[] = [];
        const { spec } = scripted(clock, [pending("image pending"), throttled, throttled, throttled, done], {
            onProgress: (s) => reported.push(s),
        });
        await waitUntil(spec);
        assert.deepEqual(reported, ["image pending", "image pending (RequestLimitExceeded, retrying)"]);
    });

    it("a transient error at the very first look reports that nothing was seen yet, with the error's code", async function () {
        const reported: string[] = [];
        const { spec } = scripted(clock, [awsError("Throttling", "Rate exceeded", 400), pending("image pending"), done], {
            onProgress: (s) => reported.push(s),
        });
        await waitUntil(spec);
        assert.deepEqual(reported, ["not looked yet (Throttling, retrying)", "image pending"]);
    });

    it("a transient error without an AWS code is named as such in the status", async function () {
        const reported: string[] = [];
        const { spec } = scripted(clock, [pending("image pending"), new Error("socket hang up"), done], {
            isTransient: (err) => (err as Error).message === "socket hang up",
            onProgress: (s) => reported.push(s),
        });
        await waitUntil(spec);
        assert.deepEqual(reported, ["image pending", "image pending (transient error, retrying)"]);
    });

    for (const timeoutMs of [NaN, Infinity, 0, -1_000]) {
        it(`refuses a timeout of ${timeoutMs} ms before looking (it would never pass, or has passed)`, async function () {
            const { spec, looks } = scripted(clock, [done], { timeoutMs });
            const err = await rejection(waitUntil(spec));
            assert.ok(err instanceof GoldenAmiError, String(err));
            assert.equal(err.code, "InvalidTimeout");
            assert.equal(err.message, `golden-ami: invalid timeout ${timeoutMs} ms for waiting for the thing to be ready`);
            assert.equal(looks(), 0);
            assert.deepEqual(clock.sleeps, []);
        });
    }

    it("accepts the shortest timeout, 1 ms", async function () {
        const { spec } = scripted(clock, [done], { timeoutMs: 1 });
        assert.deepEqual(await waitUntil(spec), done);
    });

    describe("timeScale multiplies every delay", function () {
        // 0.1: minMs 100, maxMs 800 (blind backoff ×2); the mistake to catch is dividing (80 s).
        it("maxMs: the blind backoff stops growing at maxMs × scale", async function () {
            const { spec } = scripted(clock, [...Array.from({ length: 6 }, () => pending("p")), done], { timeScale: 0.1 });
            await waitUntil(spec);
            assert.deepEqual(clock.sleeps, [100, 200, 400, 800, 800, 800]);
        });

        it("maxPredictedMs: a far prediction is approached in steps of maxPredictedMs × scale", async function () {
            const { spec } = scripted(clock, [], {
                timeScale: 0.1,
                delays: { ...DELAYS, maxPredictedMs: 5_000 },
                judge: judgeByLook([(now) => pending("far", now + 60 * 60_000), (now) => pending("far", now + 60 * 60_000)]),
                observe: async () => pending("ignored"),
            });
            await waitUntil(spec);
            assert.deepEqual(clock.sleeps, [500, 500]);
        });

        it("maxPredictedMs defaults to maxMs × scale", async function () {
            const { spec } = scripted(clock, [], {
                timeScale: 0.1,
                judge: judgeByLook([(now) => pending("far", now + 60 * 60_000)]),
                observe: async () => pending("ignored"),
            });
            await waitUntil(spec);
            assert.deepEqual(clock.sleeps, [800]);
        });

        it("initialMs: the first look comes initialMs × scale after the call", async function () {
            const looksAt: number[] = [];
            const t0 = clock.now();
            const { spec } = scripted(clock, [pending("p"), done], { timeScale: 0.1, delays: { ...DELAYS, initialMs: 2_000 } });
            const observe = spec.observe;
            spec.observe = () => {
                looksAt.push(clock.now() - t0);
                return observe();
            };
            await waitUntil(spec);
            assert.deepEqual(looksAt, [200, 300]);
        });

        it("alignMs: every look lands on the grid of alignMs × scale", async function () {
            const looksAt: number[] = [];
            const grid = Date.UTC(2026, 0, 1); // a multiple of every grid below
            const aligned = new FakeClock(grid + 37);
            const { spec } = scripted(aligned, [pending("a"), pending("b"), pending("c"), done], {
                clock: aligned,
                timeScale: 0.1,
                delays: { ...DELAYS, alignMs: 1_000 },
            });
            const observe = spec.observe;
            spec.observe = () => {
                looksAt.push(aligned.now() - grid);
                return observe();
            };
            await waitUntil(spec);
            // Backoff 100, 200, 400 ms, each stretched to the next multiple of 100 ms.
            assert.deepEqual(looksAt, [37, 200, 400, 800]);
        });
    });

    it("formats durations as a person reads them: ms below a second, s below two minutes, then min and s", function () {
        assert.equal(formatDuration(0), "0 ms");
        assert.equal(formatDuration(250.4), "250 ms");
        assert.equal(formatDuration(999), "999 ms");
        assert.equal(formatDuration(1_000), "1 s");
        assert.equal(formatDuration(119_000), "119 s");
        assert.equal(formatDuration(120_000), "2 min");
        assert.equal(formatDuration(150_000), "2 min 30 s");
        assert.equal(formatDuration(3_599_000), "59 min 59 s");
        assert.equal(formatDuration(minutes(60)), "60 min");
    });

    it("the timeout message gives a long timeout in minutes", async function () {
        const { spec } = scripted(clock, [pending("image pending")], { timeoutMs: 150_000 });
        const err = await rejection(waitUntil(spec));
        assert.match(err.message, /timed out after 2 min 30 s waiting for the thing to be ready \(last seen: image pending\)/);
    });
});
