// golden-ami's own program (index.ts) refuses bad configuration the way a Pulumi user expects:
// one error diagnostic whose message names the key, the value and the fix, with no stack
// trace, no "unhandled exception" and no terminal colour codes (`pulumi preview`, real CLI).
// Also the builder's and the verification gate's bad input (issue 13): refused at preview, the
// message naming the field (the unit tier, tests/unit/bad-input.test.ts, covers each check).
import * as assert from "node:assert/strict";
import { PulumiStack, REPO_ROOT, RunResult } from "../support/pulumi";

/** What a user should never see for an input error. */
function assertMessageOnly(result: RunResult): void {
    const out = result.stdout + result.stderr;
    assert.notEqual(result.code, 0, out);
    assert.doesNotMatch(out, /unhandled exception/i);
    assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, "no stack frames");
    assert.doesNotMatch(out, /\.ts:\d+/, "no frames pointing into TypeScript sources");
    assert.ok(!out.includes("\u001b["), "no colour codes");
}

describe("e2e: golden-ami's program reports input errors as messages", function () {
    const stacks: PulumiStack[] = [];
    after(async () => {
        for (const stack of stacks) await stack.remove();
    });

    async function preview(config: Record<string, string>): Promise<RunResult> {
        const stack = await PulumiStack.create({ program: REPO_ROOT, config: { "aws:region": "us-east-1", "golden-ami:mode": "build", ...config } });
        stacks.push(stack);
        return stack.preview();
    }

    it("refuses misspelt configuration keys, naming the nearest valid one", async function () {
        const result = await preview({ "golden-ami:existingInstanceId": "i-0123456789abcdef0", "golden-ami:copyToRegion": '["eu-west-1"]', "golden-ami:stopBeforeImge": "false" });
        assertMessageOnly(result);
        const out = result.stdout + result.stderr;
        assert.match(out, /golden-ami:copyToRegion is not a setting of this program; did you mean golden-ami:copyToRegions\?/);
        assert.match(out, /golden-ami:stopBeforeImge is not a setting of this program; did you mean golden-ami:stopBeforeImage\?/);
    });

    it("refuses an availability zone in copyToRegions, saying the build region needs no copy", async function () {
        const result = await preview({ "golden-ami:existingInstanceId": "i-0123456789abcdef0", "golden-ami:copyToRegions": '["us-east-1b"]' });
        assertMessageOnly(result);
        assert.match(result.stdout + result.stderr, /"us-east-1b" is an availability zone, not a region; use "us-east-1": AMIs are regional.*us-east-1 is the build region, which needs no copy/);
    });

    it("refuses a builder with no base image, a subnet ID of the wrong shape, and verify with no way to judge a pass, naming the field", async function () {
        const builder = (b: Record<string, unknown>) => ({ "golden-ami:builder": JSON.stringify({ userData: "#!/bin/bash\nshutdown -h now\n", ...b }) });
        const cases: Array<{ config: Record<string, string>; says: RegExp }> = [
            { config: builder({}), says: /the builder needs a base image: set builder\.baseImageId \("ami-\.\.\."\) or builder\.baseImage/ },
            { config: builder({ baseImageId: "ami-0123456789abcdef0", subnetId: "subnet-123456789" }), says: /builder\.subnetId "subnet-123456789" is not a subnet ID/ },
            {
                config: { "golden-ami:existingInstanceId": "i-0123456789abcdef0", "golden-ami:verify": JSON.stringify({ userData: "#!/bin/bash\ncurl -f localhost\n" }) },
                says: /verify\.userData is a test script with no way to say it passed: it must print GOLDEN-AMI-OK/,
            },
        ];
        const results = await Promise.all(cases.map((c) => preview(c.config)));
        results.forEach((result, i) => {
            assertMessageOnly(result);
            assert.match(result.stdout + result.stderr, cases[i].says);
        });
    });
});
