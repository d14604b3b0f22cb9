// Unit tests of the check of golden-ami's own program configuration (components/program-config.ts).
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { PROGRAM_CONFIG, programConfigProblems } from "../../components/program-config";

describe("unit: golden-ami's program configuration is checked before anything is made", function () {
    it("accepts the committed example stacks' configuration", function () {
        for (const file of fs.readdirSync(path.join(__dirname, "..", "..", "examples")).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
            const text = fs.readFileSync(path.join(__dirname, "..", "..", "examples", file), "utf8");
            const keys = [...text.matchAll(/^  golden-ami:([A-Za-z]+):\s*(.*)$/gm)];
            assert.ok(keys.length > 0, `${file} sets golden-ami keys`);
            const config = Object.fromEntries(keys.map(([, key, value]) => [key, value === "" ? "{}" : value.replace(/^"|"$/g, "")]));
            // Lists and objects are written as YAML blocks here; their type is checked in the tests below.
            for (const key of Object.keys(config)) if (["list", "object"].includes(PROGRAM_CONFIG[key]?.type)) delete config[key];
            assert.deepEqual(programConfigProblems({ mode: config.mode, ...config }), [], file);
        }
    });

    it("refuses an unknown key with the nearest valid name", function () {
        const problems = programConfigProblems({ mode: "build", copyToRegion: '["eu-west-1"]', stopBeforeImge: "false" });
        assert.equal(problems.length, 2);
        assert.match(problems[0], /golden-ami:copyToRegion is not a setting of this program; did you mean golden-ami:copyToRegions\?/);
        assert.match(problems[1], /golden-ami:stopBeforeImge .*did you mean golden-ami:stopBeforeImage\?.*pulumi config rm golden-ami:stopBeforeImge/);
    });

    it("refuses a key of another mode", function () {
        const [problem, ...rest] = programConfigProblems({ mode: "regional", sourceStack: "o/p/s", copyToRegions: '["eu-west-1"]' });
        assert.deepEqual(rest, []);
        assert.match(problem, /golden-ami:copyToRegions has no effect in regional mode \(it is a setting of build mode\)/);
    });

    it("checks types: numbers, booleans, lists and objects", function () {
        const problems = programConfigProblems({
            mode: "build",
            imageTimeoutMinutes: "soon",
            stopBeforeImage: "yes",
            copyToRegions: "eu-west-1",
            tags: '["team"]',
            description: "42",
        });
        assert.equal(problems.length, 4, problems.join("\n"));
        assert.match(problems.join("\n"), /golden-ami:copyToRegions must be a list, not string "eu-west-1"; set it with --path, e\.g\. pulumi config set --path 'golden-ami:copyToRegions\[0\]'/);
        assert.match(problems.join("\n"), /golden-ami:imageTimeoutMinutes must be a number/);
        assert.match(problems.join("\n"), /golden-ami:stopBeforeImage must be a boolean/);
        assert.match(problems.join("\n"), /golden-ami:tags must be a object, not list/);
    });

    it("requires a known mode", function () {
        assert.match(programConfigProblems({}).join(), /golden-ami:mode is not set/);
        assert.match(programConfigProblems({ mode: "builder" }).join(), /golden-ami:mode must be one of build, regional, consumer/);
    });

    it("knows every key the program reads (and no other)", function () {
        const program = fs.readFileSync(path.join(__dirname, "..", "..", "index.ts"), "utf8");
        const read = new Set([...program.matchAll(/config\.(?:get|require)[A-Za-z]*(?:<[^>]*>+)?\("([A-Za-z]+)"/g)].map((m) => m[1]));
        read.add("mode");
        assert.deepEqual([...read].sort(), Object.keys(PROGRAM_CONFIG).sort());
    });
});
