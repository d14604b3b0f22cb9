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

/** The context of the provider process: waits, plus a progress reporter per resource URN. */
export interface RunContext extends WaitContext {
    progress(urn: string | undefined): ProgressFn;
    /** Warnings that outlive the run (kept in the diagnostics); progress when absent. */
    warn?(urn: string | undefined): ProgressFn;
}
