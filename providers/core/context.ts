/**
 * What the code is given by whoever runs it, instead of reading module globals: the clock,
 * the pace of time (benchmarks compress it) and where progress messages go. The provider
 * runtime makes the production context once (providers/runtime.ts); tests and benchmarks
 * make their own and pass it in.
 */

/** Time source and sleep. */
export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** What every wait needs besides its own options. */
export interface WaitContext {
    clock: Clock;
    /** Multiplies every delay between looks; 1 except in time-compressed benchmarks. */
    timeScale: number;
}

/** A function that reports progress for one resource. */
export type ProgressFn = (message: string) => void;

/** Gives slots back (a second call does nothing). */
export type Release = () => void;

/** A limit of things in flight per region (copies: providers/lifecycle/copy-slots.ts). */
export interface SlotPool {
    /** Waits for `weight` slots in `region` for `key` (what is shared fairly); progress while waiting. */
    acquire(region: string, key: string, weight: number, progress?: ProgressFn): Promise<Release>;
    /** `lookup()` once per key for the life of the pool (how many slots a copy of that source takes). */
    weightOf(key: string, lookup: () => Promise<number>): Promise<number>;
}

/** The context of the provider process: waits, plus a progress reporter per resource URN. */
export interface RunContext extends WaitContext {
    progress(urn: string | undefined): ProgressFn;
    /** Snapshot copies in flight per destination region; none: copies start at once. */
    copySlots?: SlotPool;
    /** Warnings that outlive the run (kept in the diagnostics); progress when absent. */
    warn?(urn: string | undefined): ProgressFn;
}
