/**
 * The copy slots of the provider process: at most a configured number of snapshot copies in
 * flight per destination region, shared fairly between images.
 *
 * EC2 runs only so many snapshot copies into one region at a time (the EBS quota "Concurrent
 * snapshot copies per destination Region", 20 by default, not adjustable) and refuses a
 * CopyImage beyond it with ResourceLimitExceeded. A fleet of images copied into the same
 * regions would start every copy at once and meet that answer; so each copy takes as many
 * slots as its image has snapshots before its CopyImage, and gives them back when the copy is
 * done (completed, failed, or given up). Retrying ResourceLimitExceeded (ec2/copy-image.ts)
 * stays the last resort, for copies this process does not know about (another stack's, a
 * console copy).
 *
 * Fair: a free slot goes to the waiting copy whose source image holds the fewest slots in
 * that region (first come among equals), so one image with many copies into a region cannot
 * hold every slot while another image waits. The slots are this process's: the provider
 * process is per `pulumi up` of one stack, so two stacks deploying into the same region at
 * the same time share EC2's quota without knowing of each other (split the limit between them,
 * `golden-ami:copySlotsPerRegion`; what goes beyond is retried).
 */
import { ProgressFn, Release, SlotPool } from "../core/context";
import { GoldenAmiError } from "../core/errors";

/** EC2's default (and not adjustable) quota of concurrent snapshot copies per destination region. */
export const DEFAULT_COPY_SLOTS = 20;

/** The stack configuration key of the limit (read when the provider process is configured). */
export const COPY_SLOTS_CONFIG_KEY = "golden-ami:copySlotsPerRegion";

interface Waiter {
    source: string;
    weight: number;
    seq: number;
    grant: () => void;
}

interface RegionSlots {
    inUse: number;
    peak: number;
    held: Map<string, number>;
    waiting: Waiter[];
}

/** The slots of every destination region, each with the same limit. */
export class CopySlots implements SlotPool {
    private readonly regions = new Map<string, RegionSlots>();
    private readonly weights = new Map<string, Promise<number>>();
    private seq = 0;

    constructor(private limit = DEFAULT_COPY_SLOTS) {
        CopySlots.checkLimit(limit);
    }

    /** The limit as a number of snapshot copies, or an error that names the configuration key. */
    static checkLimit(value: unknown): number {
        if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
            throw new GoldenAmiError(
                `golden-ami: ${COPY_SLOTS_CONFIG_KEY} must be a whole number of snapshot copies of at least 1 (EC2's quota is ${DEFAULT_COPY_SLOTS} per destination region), not ${JSON.stringify(value)}. ` +
                    `What to do: \`pulumi config set ${COPY_SLOTS_CONFIG_KEY} ${DEFAULT_COPY_SLOTS}\`, or remove it for the default.`,
                "InvalidCopySlots",
            );
        }
        return value;
    }

    setLimit(limit: number): void {
        this.limit = CopySlots.checkLimit(limit);
        for (const region of this.regions.keys()) this.grant(region);
    }

    /**
     * Waits for `weight` slots (the copy's snapshots) in `region` for a copy of `source`;
     * reports "waiting for a copy slot" while it waits. A copy of more snapshots than the
     * limit waits until the region is idle and then goes alone (EC2 decides).
     */
    async acquire(region: string, source: string, weight: number, progress: ProgressFn = () => undefined): Promise<Release> {
        const slots = this.slots(region);
        const need = Math.max(1, Math.min(Math.floor(weight) || 1, this.limit));
        let granted = false;
        const ready = new Promise<void>((resolve) => {
            slots.waiting.push({
                source,
                weight: need,
                seq: this.seq++,
                grant: () => {
                    granted = true;
                    resolve();
                },
            });
        });
        this.grant(region);
        if (!granted) {
            const ahead = slots.waiting.length - 1;
            progress(`waiting for a copy slot in ${region} (${slots.inUse} of ${this.limit} in use, ${ahead} ${ahead === 1 ? "copy" : "copies"} ahead)`);
        }
        await ready;
        let released = false;
        return () => {
            if (released) return;
            released = true;
            slots.inUse -= need;
            const held = (slots.held.get(source) ?? 0) - need;
            if (held > 0) slots.held.set(source, held);
            else slots.held.delete(source);
            this.grant(region);
        };
    }

    weightOf(key: string, lookup: () => Promise<number>): Promise<number> {
        let w = this.weights.get(key);
        if (!w) {
            // A failed look-up counts as one slot (and is not remembered): the copy still goes.
            w = lookup().catch(() => {
                this.weights.delete(key);
                return 1;
            });
            this.weights.set(key, w);
        }
        return w;
    }

    /** Slots in use and the most ever in use at once, for a region (tests, the bench). */
    usage(region: string): { inUse: number; peak: number; waiting: number } {
        const s = this.slots(region);
        return { inUse: s.inUse, peak: s.peak, waiting: s.waiting.length };
    }

    private slots(region: string): RegionSlots {
        let s = this.regions.get(region);
        if (!s) {
            s = { inUse: 0, peak: 0, held: new Map(), waiting: [] };
            this.regions.set(region, s);
        }
        return s;
    }

    /** Hands free slots out: the least-served source first; the first in line waits for room (no overtaking by smaller copies, so none starves). */
    private grant(region: string): void {
        const s = this.slots(region);
        for (;;) {
            if (s.waiting.length === 0) return;
            let next = 0;
            for (let i = 1; i < s.waiting.length; i++) {
                const a = s.waiting[i];
                const b = s.waiting[next];
                const ha = s.held.get(a.source) ?? 0;
                const hb = s.held.get(b.source) ?? 0;
                if (ha < hb || (ha === hb && a.seq < b.seq)) next = i;
            }
            const w = s.waiting[next];
            if (s.inUse > 0 && s.inUse + w.weight > this.limit) return;
            s.waiting.splice(next, 1);
            s.inUse += w.weight;
            s.peak = Math.max(s.peak, s.inUse);
            s.held.set(w.source, (s.held.get(w.source) ?? 0) + w.weight);
            w.grant();
        }
    }
}
