// The image lifecycle's checks of the generation settings (providers/lifecycle/image-lifecycle.ts,
// through InstanceImage's check): retention, onDestroy and ssmParameterName, each refusal word for word.
import * as assert from "node:assert/strict";
import { INSTANCE, offlineProvider, REGION, URN } from "./fixture";

async function failures(news: Record<string, unknown>) {
    const result = await offlineProvider().check!({}, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, ...news });
    return result.failures ?? [];
}

const bad = (name: string, problems: string) =>
    `ssmParameterName: "${name}" is not a valid SSM parameter name: ${problems} (e.g. "/golden-ami/web/latest")`;

describe("image lifecycle checks: retention, onDestroy, ssmParameterName", function () {
    const cases: Array<[string, Record<string, unknown>, Array<[string, string]>]> = [
        ["retention not an object", { retention: "2" }, [["retention", 'retention must be an object like { keep: 2, minAge: "7d", launchedWithin: "14d", disableAfter: "30d" }, not "2"']]],
        ["retention a list", { retention: [2] }, [["retention", 'retention must be an object like { keep: 2, minAge: "7d", launchedWithin: "14d", disableAfter: "30d" }, not [2]']]],
        ["keep negative", { retention: { keep: -1 } }, [["retention.keep", "retention.keep must be a whole number of retired generations to keep, 0 or more, not -1"]]],
        ["keep a fraction", { retention: { keep: 1.5 } }, [["retention.keep", "retention.keep must be a whole number of retired generations to keep, 0 or more, not 1.5"]]],
        ["keep a string", { retention: { keep: "2" } }, [["retention.keep", 'retention.keep must be a whole number of retired generations to keep, 0 or more, not "2"']]],
        ["minAge not a duration", { retention: { minAge: "7 days" } }, [["retention.minAge", 'retention.minAge must be a duration like "90s", "30m", "12h", "7d" or "2w" (parts may combine: "1d12h"), not "7 days"']]],
        ["launchedWithin not a duration", { retention: { launchedWithin: 14 } }, [["retention.launchedWithin", 'retention.launchedWithin must be a duration like "90s", "30m", "12h", "7d" or "2w" (parts may combine: "1d12h"), not 14']]],
        ["an unknown retention key", { retention: { count: 2 } }, [["retention.count", "retention.count is not a retention setting; use keep, minAge, launchedWithin, disableAfter"]]],
        ["onDestroy unknown", { onDestroy: "keep" }, [["onDestroy", 'onDestroy must be one of "delete", "retain", not "keep"']]],
        ["a parameter name not a string", { ssmParameterName: 5 }, [["ssmParameterName", "ssmParameterName must be a string, not number"]]],
        ["a bad character", { ssmParameterName: "/golden/web latest" }, [["ssmParameterName", bad("/golden/web latest", "use only letters, digits and _ . - /")]]],
        ["a path not starting with /", { ssmParameterName: "golden/web" }, [["ssmParameterName", bad("golden/web", "a name with a path must start with /")]]],
        ["an aws prefix", { ssmParameterName: "/aws/web" }, [["ssmParameterName", bad("/aws/web", "names may not start with aws or ssm (reserved)")]]],
        ["an ssm prefix, any case", { ssmParameterName: "SSMweb" }, [["ssmParameterName", bad("SSMweb", "names may not start with aws or ssm (reserved)")]]],
        ["too long", { ssmParameterName: "/" + "a".repeat(1011) }, [["ssmParameterName", bad("/" + "a".repeat(1011), "it is 1012 characters long; the limit is 1011")]]],
        ["16 levels", { ssmParameterName: "/a".repeat(16) }, [["ssmParameterName", bad("/a".repeat(16), "at most 15 levels of hierarchy")]]],
        ["an empty level", { ssmParameterName: "/golden//web" }, [["ssmParameterName", bad("/golden//web", "empty path levels (//) are not allowed")]]],
        ["several problems at once", { ssmParameterName: "aws/x y" }, [["ssmParameterName", bad("aws/x y", "use only letters, digits and _ . - /; a name with a path must start with /; names may not start with aws or ssm (reserved)")]]],
    ];
    for (const [what, news, expected] of cases) {
        it(what, async function () {
            assert.deepEqual((await failures(news)).map((f) => [f.property, f.reason]), expected);
        });
    }

    it("accepted: retention at its edges, onDestroy retain, names at their limits", async function () {
        for (const news of [
            { retention: { keep: 0, minAge: "0s", launchedWithin: "1d12h" } },
            { retention: null },
            { retention: {} },
            { retention: { minAge: "7d" } },
            { onDestroy: "retain" },
            { ssmParameterName: "web-latest" },
            { ssmParameterName: "/golden-ami/web_1.2/latest" },
            { ssmParameterName: "/" + "a".repeat(1010) },
            { ssmParameterName: "/a".repeat(15) },
            { ssmParameterName: "/my-aws/x" },
        ]) {
            assert.deepEqual(await failures(news), [], JSON.stringify(news).slice(0, 80));
        }
    });
});
