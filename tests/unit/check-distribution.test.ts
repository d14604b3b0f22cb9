// checkDistribution (providers/lifecycle/check-distribution.ts) message by message and at
// every time limit's boundary, where the distribution tests did not tell the code apart
// (mutation testing's survivors, docs/mutation-testing.md).
import * as assert from "node:assert/strict";
import { checkDistribution } from "../../providers/lifecycle/check-distribution";

const NOW = Date.UTC(2026, 0, 1);
const reasons = (args: Record<string, unknown>) => checkDistribution(args, NOW).map((f) => f.reason);
const inYears = (years: number) => new Date(Date.UTC(2026 + years, 0, 1)).toISOString().replace(".000Z", "Z");

describe("checkDistribution: messages and limits", function () {
    it("a list that is not a list: the value shown with its type, and how to write the list", function () {
        assert.deepEqual(reasons({ launchAccounts: 5 }), ['launchAccounts: must be a list of 12-digit AWS account IDs, got 5 (number); write it as ["123456789012"]']);
        assert.deepEqual(reasons({ launchAccounts: { a: 1 } }), ['launchAccounts: must be a list of 12-digit AWS account IDs, got {"a":1} (object); write it as ["123456789012"]']);
    });

    it("a string element that is not valid is shown quoted, without a type, with an example of each list", function () {
        assert.deepEqual(reasons({ launchAccounts: ["abc"], launchOrganizations: ["o-1"], launchOrganizationalUnits: ["ou-1"] }), [
            'launchAccounts[0]: "abc" is not a 12-digit AWS account ID; it looks like "123456789012"',
            'launchOrganizations[0]: "o-1" is not an organization ARN; it looks like "arn:aws:organizations::123456789012:organization/o-abcde12345"',
            'launchOrganizationalUnits[0]: "ou-1" is not an organizational unit ARN; it looks like "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdef12"',
        ]);
        assert.deepEqual(reasons({ launchOrganizations: "x", launchOrganizationalUnits: "y" }), [
            'launchOrganizations: must be a list of organization ARNs, got "x"; write it as ["arn:aws:organizations::123456789012:organization/o-abcde12345"]',
            'launchOrganizationalUnits: must be a list of organizational unit ARNs, got "y"; write it as ["arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdef12"]',
        ]);
    });

    it("null is no value, like undefined, for every input", function () {
        assert.deepEqual(reasons({ launchAccounts: null, launchOrganizations: null, public: null, shareSnapshots: null, deregistrationProtection: null, deprecateAt: null }), []);
    });

    it("deprecateAt given as a list holding a time is refused (only a string is a time)", function () {
        assert.deepEqual(checkDistribution({ deprecateAt: ["2030-01-31T00:00:00Z"] } as never, NOW).map((f) => f.property), ["deprecateAt"]);
    });

    it("deprecateAt exactly 10 years ahead is accepted; a second more is refused, saying why", function () {
        assert.deepEqual(reasons({ deprecateAt: inYears(10) }), []);
        assert.deepEqual(reasons({ deprecateAt: "2036-01-01T00:00:01Z" }), [
            'deprecateAt: "2036-01-01T00:00:01Z" is more than 10 years after now (2026-01-01T00:00:00.000Z), which EC2 refuses; choose an earlier time',
        ]);
    });

    it("public: deprecateAt exactly 2 years ahead is accepted, a second more refused, saying why; not public, 5 years is fine", function () {
        assert.deepEqual(reasons({ public: true, deprecateAt: inYears(2) }), []);
        assert.deepEqual(reasons({ public: true, deprecateAt: "2028-01-01T00:00:01Z" }), [
            'deprecateAt: "2028-01-01T00:00:01Z" is more than 2 years ahead; EC2 deprecates public images at most 2 years after their creation; choose an earlier time',
        ]);
        assert.deepEqual(reasons({ public: false, deprecateAt: inYears(5) }), []);
        assert.deepEqual(reasons({ deprecateAt: inYears(5) }), []);
    });
});
