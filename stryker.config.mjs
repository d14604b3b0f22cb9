// StrykerJS configuration for `npm run mutate` (scripts/mutate.sh): plants small bugs
// (mutants) in the product code, one at a time, and runs the unit tier against each; a mutant
// no test fails on is a hole in the tests. docs/mutation-testing.md says how to read the result.
// Not part of `npm test`: a full run takes far longer than the suite.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
    packageManager: "npm",
    testRunner: "mocha",
    // Mutants that do not compile are dropped before any test runs: tsc over the product code
    // (tsconfig.build.json; checking the tests and the bench as well made the checker, not the
    // tests, the bottleneck: about 25 mutants a minute).
    checkers: ["typescript"],
    tsconfigFile: "tsconfig.build.json",
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    // Globs, not a file list: the product's modules move (providers/core, ec2, lifecycle, ...).
    mutate: ["providers/**/*.ts", "components/**/*.ts", "!**/*.d.ts"],
    mochaOptions: {
        // Not .mocharc.json: that runs every tier (e2e needs the Pulumi CLI) through the
        // repository's reporter; the mutation run is the unit tier only, transpiled as there.
        "no-config": true,
        "no-package": true,
        spec: ["tests/unit/**/*.test.ts"],
        extension: ["ts"],
        require: ["ts-node/register/transpile-only"],
    },
    // Each mutant runs only the tests that reach its code.
    coverageAnalysis: "perTest",
    // A rerun re-tests only mutants in changed code or covered by changed tests.
    incremental: true,
    incrementalFile: "reports/mutation/stryker-incremental.json",
    // The machine's two cores are shared; raise with `npm run mutate -- --concurrency 2`.
    concurrency: 1,
    timeoutMS: 10000,
    reporters: ["clear-text", "progress", "json", "html"],
    jsonReporter: { fileName: "reports/mutation/mutation.json" },
    htmlReporter: { fileName: "reports/mutation/mutation.html" },
    tempDirName: ".stryker-tmp",
    // The sandbox copy needs the product, the unit tier and its support, not state or other tiers.
    ignorePatterns: ["dist", ".ga", "reports", "bench", "tests/e2e", "tests/integration", "tests/emulator", ".pulumi-state", ".pulumi-home"],
};
