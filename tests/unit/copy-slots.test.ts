// Copy slots: at most the limit of snapshot copies in flight per destination region, shared fairly
// between images; ResourceLimitExceeded retried with backoff as the last resort (virtual time).
import * as assert from "node:assert/strict";
import { copyImage } from "../../providers/ec2/copy-image";
import { WaitTimeoutError } from "../../providers/ec2/waiter";
import { COPY_SLOTS_CONFIG_KEY, CopySlots, DEFAULT_COPY_SLOTS } from "../../providers/lifecycle/copy-slots";
import { createProviders } from "../../providers/runtime";
import { FakeEc2 } from "../support/fake-ec2";
import { awsError, countByAction, FakeClock, rejection, stubEc2 } from "../support/fakes";
import { copyEc2, inputsWith, REGION, SOURCE, SOURCE_REGION } from "./image-copy/fixture";

/** Lets every promise callback queued so far run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Virtual time whose sleeps also yield to the event loop, so side-by-side creates really overlap. */
class YieldingClock extends FakeClock {
    async sleep(ms: number): Promise<void> {
        await super.sleep(ms);
        await settle();
    }
}

describe("copy slots", function () {
    it("never has more than the limit in flight in a region; every copy gets its turn; regions are apart", async function () {
        const slots = new CopySlots(3);
        let inFlight = 0;
        let peak = 0;
        const order: number[] = [];
        const releases: Array<() => void> = [];
        const copies = Array.from({ length: 10 }, (_, i) =>
            slots.acquire(REGION, `source-${i % 4}`, 1).then((release) => {
                inFlight++;
                peak = Math.max(peak, inFlight);
                order.push(i);
                releases.push(() => {
                    inFlight--;
                    release();
                });
            }),
        );
        const other = await slots.acquire("ap-southeast-2", "source-0", 1); // another region: not queued behind eu-west-1
        await settle();
        assert.equal(inFlight, 3);
        assert.deepEqual(slots.usage(REGION), { inUse: 3, peak: 3, waiting: 7 });
        while (order.length < 10 || releases.length) {
            releases.shift()?.();
            await settle();
        }
        await Promise.all(copies);
        assert.equal(peak, 3);
        assert.equal(order.length, 10);
        assert.deepEqual(slots.usage(REGION), { inUse: 0, peak: 3, waiting: 0 });
        other();
    });

    it("is fair between images: a free slot goes to the image holding the fewest, not to the one that queued first", async function () {
        const slots = new CopySlots(2);
        const granted: string[] = [];
        const held: Record<string, Array<() => void>> = { A: [], B: [] };
        const take = (source: string) =>
            slots.acquire(REGION, source, 1).then((release) => {
                granted.push(source);
                held[source].push(release);
            });
        const all = [take("A"), take("A"), take("A"), take("A"), take("B")];
        await settle();
        assert.deepEqual(granted, ["A", "A"]);
        held.A.shift()!(); // A holds 1, B holds 0: B's copy goes first although A's queued earlier
        await settle();
        assert.deepEqual(granted, ["A", "A", "B"]);
        held.B.shift()!();
        await settle();
        held.A.shift()!();
        await settle();
        held.A.shift()!();
        await Promise.all(all);
        assert.deepEqual(granted, ["A", "A", "B", "A", "A"]);
    });

    it("a copy takes one slot per snapshot of its image; one bigger than the limit goes alone; the first in line is not overtaken", async function () {
        const slots = new CopySlots(4);
        const granted: string[] = [];
        const releases: Record<string, () => void> = {};
        const take = (name: string, weight: number) =>
            slots.acquire(REGION, name, weight).then((release) => {
                granted.push(name);
                releases[name] = release;
            });
        const all = [take("three", 3), take("two", 2), take("one", 1), take("huge", 9)];
        await settle();
        // "two" does not fit beside "three" (5 > 4), and "one" (which would fit) does not overtake it.
        assert.deepEqual(granted, ["three"]);
        releases.three();
        await settle();
        assert.deepEqual(granted, ["three", "two", "one"]);
        releases.two();
        await settle();
        assert.deepEqual(granted, ["three", "two", "one"], "huge waits for an idle region");
        releases.one();
        await Promise.all(all);
        assert.deepEqual(granted, ["three", "two", "one", "huge"]);
        assert.equal(slots.usage(REGION).peak, 4, "huge counts as the whole limit");
        releases.huge();
        releases.huge(); // a second release gives nothing back twice
        assert.equal(slots.usage(REGION).inUse, 0);
    });

    it("says it is waiting for a copy slot, with how many are in use and ahead", async function () {
        const slots = new CopySlots(1);
        const lines: string[] = [] as string[];
        const first = await slots.acquire(REGION, "A", 1, (l) => lines.push(l));
        assert.equal(lines.length, 0, "a copy that gets its slot at once says nothing");
        const second = slots.acquire(REGION, "B", 1, (l) => lines.push(l));
        assert.deepEqual(lines, [`waiting for a copy slot in ${REGION} (1 of 1 in use, 0 copies ahead)`]);
        first();
        (await second)();
    });

    it("refuses a limit that is not a whole number of at least 1, naming the configuration key and EC2's quota", function () {
        for (const bad of [0, -1, 2.5, Number.NaN, "5"]) {
            const err = (() => {
                try {
                    new CopySlots(bad as number);
                } catch (e) {
                    return e as Error;
                }
                return assert.fail(`accepted ${String(bad)}`);
            })();
            assert.ok(err.message.includes(COPY_SLOTS_CONFIG_KEY), err.message);
            assert.ok(err.message.includes(`quota is ${DEFAULT_COPY_SLOTS}`), err.message);
        }
        assert.equal(new CopySlots().usage(REGION).inUse, 0);
    });

    it("the refusal word for word, with its code", function () {
        assert.throws(() => new CopySlots(0), (err: Error & { code?: string }) => {
            assert.equal(err.message, `golden-ami: ${COPY_SLOTS_CONFIG_KEY} must be a whole number of snapshot copies of at least 1 (EC2's quota is 20 per destination region), not 0. ` +
                `What to do: \`pulumi config set ${COPY_SLOTS_CONFIG_KEY} 20\`, or remove it for the default.`);
            assert.equal(err.code, "InvalidCopySlots");
            return true;
        });
    });

    it("one copy ahead is 'copy', not 'copies'", async function () {
        const slots = new CopySlots(1);
        const lines: string[] = [];
        const first = await slots.acquire(REGION, "A", 1);
        const second = slots.acquire(REGION, "B", 1);
        const third = slots.acquire(REGION, "C", 1, (l) => lines.push(l));
        assert.deepEqual(lines, [`waiting for a copy slot in ${REGION} (1 of 1 in use, 1 copy ahead)`]);
        first();
        (await second)();
        (await third)();
    });

    it("setLimit: a raised limit lets waiting copies in at once; a bad one is refused", async function () {
        const slots = new CopySlots(1);
        const first = await slots.acquire(REGION, "A", 1);
        let secondIn = false;
        const second = slots.acquire(REGION, "B", 1).then((release) => { secondIn = true; return release; });
        await settle();
        assert.equal(secondIn, false);
        slots.setLimit(2);
        await settle();
        assert.equal(secondIn, true);
        assert.deepEqual(slots.usage(REGION), { inUse: 2, peak: 2, waiting: 0 });
        assert.throws(() => slots.setLimit(0), /must be a whole number/);
        first();
        (await second)();
    });

    it("a copy given back no longer counts for its image: the next free slot goes by arrival between images holding none", async function () {
        const slots = new CopySlots(1);
        (await slots.acquire(REGION, "A", 1))(); // A copied once and gave its slot back: it holds none now
        const other = await slots.acquire(REGION, "C", 1);
        const order: string[] = [];
        const a = slots.acquire(REGION, "A", 1).then((release) => { order.push("A"); return release; });
        const b = slots.acquire(REGION, "B", 1).then((release) => { order.push("B"); return release; });
        other();
        (await a)();
        (await b)();
        assert.deepEqual(order, ["A", "B"]);
    });

    it("looks the weight of a source up once, and counts a failed look-up as one slot without remembering it", async function () {
        const slots = new CopySlots();
        let looks = 0;
        const lookup = async () => ++looks * 0 + 2;
        assert.equal(await slots.weightOf("s", lookup), 2);
        assert.equal(await slots.weightOf("s", lookup), 2);
        assert.equal(looks, 1);
        assert.equal(await slots.weightOf("t", async () => Promise.reject(new Error("throttled"))), 1);
        assert.equal(await slots.weightOf("t", lookup), 2, "looked up again after the failure");
    });
});

describe("CopyImage beyond EC2's copy limit (ResourceLimitExceeded), retried as the last resort", function () {
    const limitError = () => awsError("ResourceLimitExceeded", "Too many snapshot copies in progress. The limit is 20 for this destination region.");
    const request = { sourceImageId: SOURCE, sourceRegion: SOURCE_REGION, name: "web-eu", encrypted: false, copyImageTags: false, imageTags: {}, snapshotTags: {} };

    it("retries with growing delays (5 s, 10 s, …) on virtual time, says it is waiting for a copy slot, then returns the copy", async function () {
        let refusals = 2;
        const { calls, restore } = stubEc2(REGION, (action) => {
            if (action === "CopyImage") {
                if (refusals-- > 0) throw limitError();
                return { ImageId: "ami-0fedcba9876543210" };
            }
            return { Images: [{ ImageId: "ami-0fedcba9876543210", State: "pending" }] };
        });
        try {
            const clock = new FakeClock();
            const lines: string[] = [];
            const id = await copyImage(REGION, request, { clock, timeScale: 1, random: () => 0.5, progress: (l) => lines.push(l) });
            assert.equal(id, "ami-0fedcba9876543210");
            assert.equal(countByAction(calls).CopyImage, 3);
            assert.deepEqual(clock.sleeps, [5_000, 10_000]);
            assert.deepEqual(lines, [`waiting for a copy slot in ${REGION}: EC2 answered ResourceLimitExceeded, retrying`]);
            const tokens = new Set(calls.filter((c) => c.action === "CopyImage").map((c) => c.input.ClientToken));
            assert.equal(tokens.size, 1, "every retry sends the same ClientToken: never a second copy");
        } finally {
            restore();
        }
    });

    it("gives up after its limit with a timeout that names the copy slot", async function () {
        const { restore } = stubEc2(REGION, () => {
            throw limitError();
        });
        try {
            const err = await rejection(copyImage(REGION, request, { clock: new FakeClock(), timeScale: 1, random: () => 0.5, resourceLimitRetryMs: 60_000 }));
            assert.ok(err instanceof WaitTimeoutError);
            assert.match(err.message, /a copy slot in eu-west-1 for web-eu/);
            assert.match(err.message, /ResourceLimitExceeded/);
        } finally {
            restore();
        }
    });

    it("any other CopyImage error is not retried", async function () {
        const { calls, restore } = stubEc2(REGION, () => {
            throw awsError("InvalidAMIID.NotFound");
        });
        try {
            const err = await rejection(copyImage(REGION, request, { clock: new FakeClock(), timeScale: 1 }));
            assert.equal((err as { name?: string }).name, "InvalidAMIID.NotFound");
            assert.equal(calls.length, 1);
        } finally {
            restore();
        }
    });
});

describe("ImageCopy creates under the copy limit (fake EC2, virtual time)", function () {
    let ec2: FakeEc2;
    let restore: () => void;
    beforeEach(function () {
        ec2 = copyEc2();
        restore = ec2.install();
    });
    afterEach(() => restore());

    it("12 copies of a 2-snapshot image into one region with 6 slots: never more than 3 copies in flight, all 12 made, one look-up of the source's snapshots", async function () {
        const slots = new CopySlots(6);
        const lines: string[] = [];
        const provider = createProviders({ clock: new YieldingClock(), timeScale: 1, progress: () => (l) => lines.push(l), copySlots: slots }).ImageCopy;
        let peak = 0;
        const inFlight = () => ec2.copies().filter((c) => !c.served.includes("available")).length;
        ec2.beforeMake = (action) => {
            if (action === "CopyImage") peak = Math.max(peak, inFlight() + 1);
        };
        const made = await Promise.all(Array.from({ length: 12 }, (_, i) => provider.create(inputsWith({ name: `web-golden-eu-${i}`, resourceUrn: undefined }))));
        assert.equal(new Set(made.map((m) => m.id)).size, 12);
        assert.equal(ec2.copies().length, 12);
        assert.equal(peak, 3);
        assert.equal(slots.usage(REGION).peak, 6, "2 slots per copy");
        assert.equal(slots.usage(REGION).inUse, 0, "every slot given back");
        assert.equal(lines.filter((l) => l.startsWith(`waiting for a copy slot in ${REGION} (6 of 6 in use`)).length, 9, "the 9 that waited said so");
        const sourceLooks = ec2.calls.filter((c) => c.action === "DescribeImages" && c.region === SOURCE_REGION && (c.input.ImageIds ?? []).includes(SOURCE));
        assert.equal(sourceLooks.length, 1);
    });

    it("a copy that fails gives its slot back: the next copy starts", async function () {
        const slots = new CopySlots(1);
        const provider = createProviders({ clock: new FakeClock(), timeScale: 1, progress: () => () => undefined, copySlots: slots }).ImageCopy;
        ec2.fail("CopyImage", awsError("InvalidParameterValue"), 1);
        const first = await rejection(provider.create(inputsWith({ name: "web-golden-eu-a" })));
        assert.match(first.message, /InvalidParameterValue/);
        const { id } = await provider.create(inputsWith({ name: "web-golden-eu-b" }));
        assert.equal(ec2.copies()[0].id, id);
        assert.equal(slots.usage(REGION).inUse, 0);
    });
});
