/**
 * When will a percentage reach 100? A window of plausible completion times from what EC2
 * reports of a snapshot: its progress (whole percents, truncated) and its StartTime
 * (truncated to the timestamp's resolution), assuming progress rises at a steady rate.
 *
 * A window rather than a point, because the two ways of being wrong cost different things:
 * looking before completion costs one more Describe call, looking after it costs latency.
 * A narrow window can be waited out to its end (one look, at most its width late); a wide one
 * is looked at from its start, and that look, made later in the run, narrows it.
 */

/** Plausible completion times (epoch ms): not before `earliest`, not after `latest` (when bounded). */
export interface CompletionWindow {
    earliest: number;
    /** Undefined while nothing bounds it (progress still "0%", or not seen rising). */
    latest?: number;
}

/**
 * The resolution of a timestamp EC2 gave, judged from the value: EC2 reports a snapshot's
 * StartTime to the millisecond ("…:36.556Z"), but a time on a whole second ("…:32.000Z", as
 * moto and AWS's own examples write them) may be truncated, so the real start may be up to a
 * second later. Judging a millisecond time that happens to end in .000 as whole-second only
 * widens its window a little.
 */
export function timestampResolutionMs(epochMs: number): number {
    return epochMs % 1000 === 0 ? 1000 : 1;
}

/** The true value behind a reported percentage: "43%" means 43 ≤ p < 44; "43.5%" is taken as exact. */
function percentRange(percent: number): [number, number] {
    return Number.isInteger(percent) ? [percent, percent + 1] : [percent, percent];
}

/** From progress since the start: completion = start + elapsed × 100 / progress. */
function windowFromStart(percent: number, now: number, startedAt: number): CompletionWindow | undefined {
    const [low, high] = percentRange(percent);
    const latestStart = Math.min(startedAt + timestampResolutionMs(startedAt), now);
    const at = (start: number, p: number) => start + ((now - start) * 100) / p;
    // The later the real start and the higher the real progress, the sooner the end.
    const earliest = latestStart < now ? at(latestStart, high) : now;
    const latest = startedAt < now ? at(startedAt, low) : undefined;
    return { earliest: Math.max(earliest, now), latest: latest === undefined ? undefined : Math.max(latest, now) };
}

/** From the rise between two looks: remaining percent ÷ rate, with both readings' truncation. */
function windowFromRate(first: { at: number; percent: number }, percent: number, now: number): CompletionWindow | undefined {
    const elapsed = now - first.at;
    if (elapsed <= 0) return undefined;
    const [firstLow, firstHigh] = percentRange(first.percent);
    const [low, high] = percentRange(percent);
    const fastest = (high - firstLow) / elapsed;
    const slowest = (low - firstHigh) / elapsed;
    if (!(fastest > 0)) return undefined;
    return {
        earliest: now + Math.max(0, 100 - high) / fastest,
        latest: slowest > 0 ? now + (100 - low) / slowest : undefined,
    };
}

/**
 * Feed it every reading of one snapshot's progress; it returns the completion window, or
 * undefined while nothing can be estimated. It keeps the first reading of the current run
 * (progress that drops means a new run: it starts over).
 */
export class ProgressEstimator {
    private first?: { at: number; percent: number };

    observe(percent: number, now: number, startedAt?: number): CompletionWindow | undefined {
        if (percent >= 100) return undefined;
        if (!this.first || percent < this.first.percent) this.first = { at: now, percent };
        // "0%" says too little: real snapshots often sit at 0% before progress starts.
        if (percent < 1) return undefined;
        const windows = [
            startedAt !== undefined ? windowFromStart(percent, now, startedAt) : undefined,
            windowFromRate(this.first, percent, now),
        ].filter((w): w is CompletionWindow => w !== undefined);
        if (windows.length === 0) return undefined;
        const earliest = Math.max(...windows.map((w) => w.earliest));
        const bounded = windows.map((w) => w.latest).filter((l): l is number => l !== undefined);
        const latest = bounded.length ? Math.min(...bounded) : undefined;
        // Both readings agree (steady progress): their intersection. They disagree when progress
        // is not steady; then the earlier of the two, so completion is not missed.
        if (latest === undefined || latest >= earliest) return { earliest, latest };
        return windows.reduce((a, b) => (a.earliest <= b.earliest ? a : b));
    }
}

/** The window of several things that must all complete: the last one's. */
export function lastOf(windows: Array<CompletionWindow | undefined>): CompletionWindow | undefined {
    if (windows.length === 0 || windows.some((w) => w === undefined)) return undefined;
    const all = windows as CompletionWindow[];
    const latest = all.every((w) => w.latest !== undefined) ? Math.max(...all.map((w) => w.latest!)) : undefined;
    return { earliest: Math.max(...all.map((w) => w.earliest)), latest };
}
