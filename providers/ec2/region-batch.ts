/**
 * Keyed look-ups of one region that share their EC2 call: keys asked for within a few
 * milliseconds of each other (many resources of one `pulumi up` looking up their name or
 * lineage side by side) are answered by one Describe call filtered on all of them.
 */

/** EC2 takes at most 200 values in one filter. */
const FILTER_VALUES_MAX = 200;

type Waiter<T> = { resolve: (items: T[]) => void; reject: (err: unknown) => void };

/**
 * One batcher: `describe(keys)` makes the call for a set of keys; `keysOf(item)` says which
 * keys an item of its answer belongs to (an item no key asked for is dropped). Every caller
 * gets its own copy of its items, so one caller changing them never shows in another's.
 */
export class RegionBatch<T> {
    private queue = new Map<string, Array<Waiter<T>>>();
    private timer?: NodeJS.Timeout;

    constructor(
        private readonly describe: (keys: string[]) => Promise<T[]>,
        private readonly keysOf: (item: T) => Array<string | undefined>,
        private readonly windowMs = 5,
    ) {}

    /** The items of `key`, from the next shared call. */
    get(key: string): Promise<T[]> {
        return new Promise((resolve, reject) => {
            const waiters = this.queue.get(key) ?? [];
            waiters.push({ resolve, reject });
            this.queue.set(key, waiters);
            this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
        });
    }

    private async flush(): Promise<void> {
        const batch = this.queue;
        this.queue = new Map();
        this.timer = undefined;
        const keys = [...batch.keys()];
        for (let i = 0; i < keys.length; i += FILTER_VALUES_MAX) {
            const chunk = keys.slice(i, i + FILTER_VALUES_MAX);
            try {
                const items = await this.describe(chunk);
                for (const key of chunk) {
                    const mine = items.filter((item) => this.keysOf(item).includes(key));
                    for (const w of batch.get(key)!) w.resolve(structuredClone(mine));
                }
            } catch (err) {
                for (const key of chunk) for (const w of batch.get(key)!) w.reject(err);
            }
        }
    }
}

/** One batcher per region and purpose, made on first use. */
export function perRegion<T>(make: (region: string) => RegionBatch<T>): (region: string) => RegionBatch<T> {
    const batches = new Map<string, RegionBatch<T>>();
    return (region) => {
        let batch = batches.get(region);
        if (!batch) {
            batch = make(region);
            batches.set(region, batch);
        }
        return batch;
    };
}
