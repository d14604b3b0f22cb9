/**
 * The one waiter: observe → judge → sleep, until done, failed or out of time.
 *
 * Shaped like the AWS SDK's util-waiter (an acceptor plus a small loop) with three things
 * it lacks and AMI builds need:
 * - a prediction: when the judge can estimate a window of completion times (snapshot
 *   progress, see completion.ts), the next look goes to that window instead of following a
 *   blind backoff: to its end when it is narrow (one look, noticed at most its width late),
 *   to its start when it is wide (that look narrows it); so completion is noticed promptly
 *   with few Describe calls;
 * - transient errors (throttling that outlived the SDK's own retries, a fresh ID that is
 *   not yet visible) count as "still waiting", not as failure;
 * - progress reports whenever what is observed changes.
 */
import { Clock, realClock } from "../core/context";
import { awsErrorCode, GoldenAmiError, isThrottling } from "../core/errors";

/** What the judge concluded from one observation. */
export type Verdict =
    | { state: "done" }
    | { state: "failed"; reason: string }
    | {
          state: "pending";
          /** Short human text of what is observed now, e.g. "pending, snapshots 40%". */
          status: string;
          /** Earliest epoch ms at which completion is plausible, when it can be estimated. */
          expectedAt?: number;
          /** Latest epoch ms by which completion is expected, when that is bounded too. */
          expectedBy?: number;
      };

export interface WaitDelays {
    /** First and shortest delay between looks (also the delay near a predicted completion). */
    minMs: number;
    /** Longest delay between looks without a prediction. */
    maxMs: number;
    /** Longest sleep towards a predicted completion (default: maxMs). */
    maxPredictedMs?: number;
    /** Delay before the first look (default 0): nothing is worth seeing right after a create. */
    initialMs?: number;
    /**
     * A predicted window (expectedAt..expectedBy) at most this wide is waited out to its end:
     * one look, at most this late. A wider one is looked at from its start. Default 0.
     */
    waitOutMs?: number;
    /**
     * Snap every wake-up to a multiple of this many ms of the clock (default 0 = off, jitter
     * instead). Waits in one process that poll the same API then look at the same moments,
     * so a batching observer can serve them with one call.
     */
    alignMs?: number;
    /** Growth of the delay after each look without a prediction. */
    factor: number;
    /** Relative random spread of each delay (0.2 = ±20%), so waiters do not poll in lockstep. */
    jitter: number;
}

export const DEFAULT_DELAYS: WaitDelays = { minMs: 1_000, maxMs: 15_000, factor: 1.5, jitter: 0.2 };

export interface WaitSpec<T> {
    /** What is awaited, as a phrase: "image ami-0123 to become available". */
    description: string;
    /** How long to wait in total, from the call. */
    timeoutMs: number;
    /** One look (one or a few Describe calls). */
    observe(): Promise<T>;
    /** Decides done / failed / pending from a look. */
    judge(observed: T, now: number): Verdict;
    /** Errors that mean "not yet" rather than failure (e.g. NotFound right after creation). */
    isTransient?(err: unknown): boolean;
    /** Called when the observed status text changes. */
    onProgress?(status: string): void;
    delays?: Partial<WaitDelays>;
    /** Default: real time. */
    clock?: Clock;
    /** Source of randomness for jitter (tests pass a constant). */
    random?: () => number;
    /** Multiplies every delay (time-compressed benchmarks and tests); default 1. */
    timeScale?: number;
}

/** The wait ran out of time; `lastStatus` says what was last seen. */
export class WaitTimeoutError extends GoldenAmiError {
    constructor(readonly description: string, readonly lastStatus: string, timeoutMs: number) {
        super(
            `golden-ami: timed out after ${formatDuration(timeoutMs)} waiting for ${description} (last seen: ${lastStatus}). ` +
                `What to do: run \`pulumi up\` again to resume waiting, or raise the timeout.`,
            "WaitTimeout",
        );
        this.name = "WaitTimeoutError";
    }
}

/** The awaited thing reached a state it cannot leave (e.g. an image in state `failed`). */
export class WaitFailedError extends GoldenAmiError {
    constructor(readonly description: string, readonly reason: string) {
        super(`golden-ami: gave up waiting for ${description}: ${reason}`, "WaitFailed");
        this.name = "WaitFailedError";
    }
}

/** Minutes as milliseconds (timeouts are inputs in minutes). */
export function minutes(n: number): number {
    return n * 60_000;
}

export function formatDuration(ms: number): string {
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = Math.round(ms / 1000);
    return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60 ? `${s % 60} s` : ""}`.trim();
}

/** Waits until `spec.judge` says done; returns the last observation. */
export async function waitUntil<T>(spec: WaitSpec<T>): Promise<T> {
    const clock = spec.clock ?? realClock;
    const random = spec.random ?? Math.random;
    const scale = spec.timeScale ?? 1;
    const given = { ...DEFAULT_DELAYS, ...spec.delays };
    const delays = {
        minMs: given.minMs * scale,
        maxMs: given.maxMs * scale,
        maxPredictedMs: (given.maxPredictedMs ?? given.maxMs) * scale,
        initialMs: (given.initialMs ?? 0) * scale,
        waitOutMs: (given.waitOutMs ?? 0) * scale,
        alignMs: (given.alignMs ?? 0) * scale,
        factor: given.factor,
        jitter: given.jitter,
    };
    if (!(Number.isFinite(spec.timeoutMs) && spec.timeoutMs > 0)) {
        // A NaN deadline would never pass: refuse instead of waiting forever.
        throw new GoldenAmiError(`golden-ami: invalid timeout ${spec.timeoutMs} ms for waiting for ${spec.description}`, "InvalidTimeout");
    }
    const deadline = clock.now() + spec.timeoutMs;
    let backoff = delays.minMs;
    let lastStatus = "not looked yet";
    let lastObserved = lastStatus;
    if (delays.initialMs > 0) await clock.sleep(wakeDelay(clock.now(), delays.initialMs, delays, random));

    for (;;) {
        let verdict: Verdict;
        let observed: T | undefined;
        let looked = false;
        try {
            observed = await spec.observe();
            verdict = spec.judge(observed, clock.now());
            looked = true;
        } catch (err) {
            if (!isThrottling(err) && !(spec.isTransient?.(err) ?? false)) throw err;
            // Keep the last real status; the retry note is shown once, not appended again per retry.
            verdict = { state: "pending", status: `${lastObserved} (${awsErrorCode(err) ?? "transient error"}, retrying)` };
        }
        if (verdict.state === "done") return observed as T;
        if (verdict.state === "failed") throw new WaitFailedError(spec.description, verdict.reason);

        if (looked) lastObserved = verdict.status;
        if (verdict.status !== lastStatus) {
            lastStatus = verdict.status;
            spec.onProgress?.(verdict.status);
        }
        const now = clock.now();
        if (now >= deadline) throw new WaitTimeoutError(spec.description, lastStatus, spec.timeoutMs);

        let delay: number;
        if (verdict.expectedAt !== undefined) {
            // Look again at the predicted window (its end when narrow), never sooner than minMs.
            const narrow = verdict.expectedBy !== undefined && verdict.expectedBy - verdict.expectedAt <= delays.waitOutMs;
            const target = narrow ? verdict.expectedBy! : verdict.expectedAt;
            delay = Math.min(Math.max(target - now, delays.minMs), delays.maxPredictedMs);
            backoff = delays.minMs;
        } else {
            delay = backoff;
            backoff = Math.min(backoff * delays.factor, delays.maxMs);
        }
        await clock.sleep(Math.max(0, Math.min(wakeDelay(now, delay, delays, random), deadline - now)));
    }
}

/** The sleep for `delay`: jittered, or (alignMs) stretched to the next multiple of alignMs. */
function wakeDelay(now: number, delay: number, delays: { alignMs: number; jitter: number }, random: () => number): number {
    if (delays.alignMs > 0) return Math.ceil((now + delay) / delays.alignMs) * delays.alignMs - now;
    return delay * (1 + delays.jitter * (2 * random() - 1));
}
