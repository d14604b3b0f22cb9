// Unit tests of golden-ami as a package: how the provider process finds its runtime (providers/resources/shim.ts)
// in real package layouts made in a temporary directory, without NODE_PATH; and how its errors reach the CLI.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadRuntime, packageHint } from "../../providers/resources/shim";

/** A package named golden-ami at `dir` whose runtime says where it was loaded from. */
function fakeGoldenAmi(dir: string, marker: string): void {
    fs.mkdirSync(path.join(dir, "dist", "providers"), { recursive: true });
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "golden-ami", exports: { "./dist/providers/runtime": "./dist/providers/runtime.js" } }),
    );
    fs.writeFileSync(path.join(dir, "dist", "providers", "runtime.js"), `exports.providers = { marker: ${JSON.stringify(marker)} };`);
}

describe("unit: the provider process loads golden-ami's runtime", function () {
    let root: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "ga-runtime-"));
        fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "app" }));
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    const marker = (loaded: { providers: Record<string, unknown> }) => loaded.providers.marker;

    it("finds a direct dependency by name from the program's directory", function () {
        fakeGoldenAmi(path.join(root, "node_modules", "golden-ami"), "direct");
        assert.equal(marker(loadRuntime(undefined, root)), "direct");
    });

    it("finds a nested (transitive) copy through the hint the program recorded", function () {
        const nested = path.join(root, "node_modules", "platform-lib", "node_modules", "golden-ami");
        fakeGoldenAmi(nested, "nested");
        const hint = packageHint(root, path.join(nested, "dist", "providers", "resources"));
        assert.equal(hint, "node_modules/platform-lib/node_modules/golden-ami");
        assert.equal(marker(loadRuntime(hint, root)), "nested");
    });

    it("finds the package's own runtime from inside the package (its exports map), as this repository's program does", function () {
        fakeGoldenAmi(root, "self");
        // package.json of root is now golden-ami's own: self-reference by name resolves.
        assert.equal(marker(loadRuntime(undefined, root)), "self");
        assert.equal(packageHint(root, path.join(root, "components")), ".");
    });

    it("falls back to the name when a recorded hint no longer holds (the package moved)", function () {
        fakeGoldenAmi(path.join(root, "node_modules", "golden-ami"), "moved");
        assert.equal(marker(loadRuntime("node_modules/old-lib/node_modules/golden-ami", root)), "moved");
    });

    it("says what to do when golden-ami is nowhere to be found", function () {
        const err = (() => {
            try {
                loadRuntime("node_modules/gone", root);
            } catch (e) {
                return e as Error;
            }
            return assert.fail("expected an error");
        })();
        assert.match(err.message, /cannot load golden-ami's provider code/);
        assert.match(err.message, /What to do: install golden-ami in this program's project \(`npm install golden-ami`\)/);
        assert.match(err.message, new RegExp(`in ${root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    });

    it("records no absolute path of this machine", function () {
        const hint = packageHint();
        assert.ok(hint !== undefined && !path.isAbsolute(hint), `hint ${hint}`);
    });
});

describe("unit: golden-ami's errors reach the Pulumi CLI as message-only errors", function () {
    it("GoldenAmiError is a pulumi.RunError to the SDK (printed without a stack trace)", function () {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        const { GoldenAmiError } = require("../../providers/core/errors") as typeof import("../../providers/core/errors");
        const err = new GoldenAmiError("golden-ami: GoldenImage \"web\": something", "InvalidArguments");
        assert.ok(pulumi.RunError.isInstance(err));
        assert.ok(err instanceof GoldenAmiError && err instanceof Error);
        assert.equal(err.code, "InvalidArguments");
    });
});

describe("unit: regions come from the AWS SDK's partition data", function () {
    const { regionProblem, regionWarning } = require("../../providers/core/region") as typeof import("../../providers/core/region");

    it("accepts every region the SDK lists, including partitions a hand-written list would miss", function () {
        for (const region of ["us-east-1", "ap-southeast-7", "mx-central-1", "cn-northwest-1", "us-gov-east-1", "eusc-de-east-1"]) {
            assert.equal(regionProblem(region), undefined, region);
            assert.equal(regionWarning(region), undefined, region);
        }
    });

    it("accepts a well-formed name the SDK does not list, with a warning", function () {
        assert.equal(regionProblem("eu-moon-1"), undefined);
        assert.match(regionWarning("eu-moon-1")!, /not a region the installed AWS SDK knows; check the spelling/);
    });

    it("says what an availability zone, a Local Zone or a non-region is", function () {
        assert.match(regionProblem("ap-southeast-2b")!, /availability zone, not a region; use "ap-southeast-2": AMIs are regional, and an AMI of ap-southeast-2 launches in every zone of it/);
        assert.match(regionProblem("us-west-2-lax-1a")!, /a zone \(Local or Wavelength Zone\), not a region; use "us-west-2"/);
        assert.match(regionProblem("Ireland")!, /not an AWS region name/);
    });
});
