// The Checker of `check` (providers/lifecycle/checks.ts) on its own: what counts as missing or
// skipped, the return values callers chain on, and every limit at its boundary (mutation
// testing's survivors, docs/mutation-testing.md).
import * as assert from "node:assert/strict";
import { Checker } from "../../providers/lifecycle/checks";

const properties = (c: Checker) => c.failures.map((f) => f.property);

describe("Checker", function () {
    it("required: undefined, null and the empty string are missing (and it says false); anything else is there (true)", function () {
        for (const missing of [undefined, null, ""]) {
            const c = new Checker();
            assert.equal(c.required("p", missing, "what it is"), false, JSON.stringify(missing));
            assert.deepEqual(c.failures, [{ property: "p", reason: "p is required: what it is" }]);
        }
        const c = new Checker();
        assert.equal(c.required("p", "x", "what it is"), true);
        assert.equal(c.required("p", 0, "what it is"), true);
        assert.deepEqual(c.failures, []);
    });

    it("string: false for a non-string (with its failure) and for a skipped value (without one)", function () {
        const c = new Checker();
        assert.equal(c.string("p", 5), false);
        assert.deepEqual(c.failures, [{ property: "p", reason: "p must be a string, not number" }]);
        assert.equal(c.string("q", null), false);
        assert.equal(c.string("q", undefined), false);
        assert.equal(c.string("r", "x"), true);
        assert.deepEqual(properties(c), ["p"]);
    });

    it("null is skipped like undefined by every check", function () {
        const c = new Checker();
        c.boolean("a", null);
        c.positiveNumber("b", null, "minutes");
        c.integerInRange("c", null, 1, 2);
        c.oneOf("d", null, ["x"]);
        c.tags("e", null, 10);
        c.region("f", null);
        assert.deepEqual(c.failures, []);
    });

    it("id: the message names the kind's prefix", function () {
        const c = new Checker();
        c.id("i", "x", "instance");
        c.id("a", "x", "image");
        c.id("s", "x", "snapshot");
        assert.deepEqual(c.failures.map((f) => f.reason), [
            'i: "x" is not a valid instance ID (i- followed by 8 or 17 lowercase hex digits)',
            'a: "x" is not a valid image ID (ami- followed by 8 or 17 lowercase hex digits)',
            's: "x" is not a valid snapshot ID (snap- followed by 8 or 17 lowercase hex digits)',
        ]);
    });

    it("region: a non-string is that failure alone", function () {
        const c = new Checker();
        c.region("region", 5);
        assert.deepEqual(c.failures, [{ property: "region", reason: "region must be a string, not number" }]);
    });

    it("amiName: a non-string is that failure alone", function () {
        const c = new Checker();
        c.amiName("name", 5);
        assert.deepEqual(c.failures, [{ property: "name", reason: "name must be a string, not number" }]);
    });

    it("positiveNumber: NaN and Infinity are refused", function () {
        const c = new Checker();
        c.positiveNumber("n", NaN, "minutes");
        c.positiveNumber("i", Infinity, "minutes");
        c.positiveNumber("ok", 0.5, "minutes");
        assert.deepEqual(properties(c), ["n", "i"]);
    });

    it("integerInRange: both ends included, one past either end refused, a fraction inside refused", function () {
        const c = new Checker();
        c.integerInRange("min", 1, 1, 10);
        c.integerInRange("max", 10, 1, 10);
        c.integerInRange("below", 0, 1, 10);
        c.integerInRange("above", 11, 1, 10);
        c.integerInRange("fraction", 1.5, 1, 10);
        assert.deepEqual(properties(c), ["below", "above", "fraction"]);
        assert.equal(c.failures[2].reason, "fraction must be a whole number from 1 to 10, not 1.5");
    });

    it("tags: a string is not a map (one failure, not one per character)", function () {
        const c = new Checker();
        c.tags("tags", "abc", 10);
        assert.deepEqual(c.failures, [{ property: "tags", reason: "tags must be a map of tag keys to string values" }]);
    });

    it("tags: exactly the limit of tags, a 1- and a 128-character key, a 256-character value are accepted; one more is not", function () {
        const ok = new Checker();
        ok.tags("tags", Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, "v"])), 5);
        ok.tags("tags", { a: "v", ["k".repeat(128)]: "x".repeat(256) }, 5);
        assert.deepEqual(ok.failures, []);

        const bad = new Checker();
        bad.tags("many", Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, "v"])), 5);
        bad.tags("long", { ["k".repeat(129)]: "x".repeat(257) }, 5);
        assert.deepEqual(bad.failures.map((f) => f.reason), [
            "many has 6 tags; at most 5 fit beside golden-ami's own",
            `tag key "${"k".repeat(129)}" must be 1-128 characters long`,
            `tag value of "${"k".repeat(129)}" must be a string of at most 256 characters`,
        ]);
    });
});
