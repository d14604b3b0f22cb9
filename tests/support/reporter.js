// mocha's spec reporter plus one closing line CI can read: "mocha: N passed, N failed".
"use strict";
const Spec = require("mocha/lib/reporters/spec");

class SpecWithSummary extends Spec {
    constructor(runner, options) {
        super(runner, options);
        runner.once("end", () => {
            const s = runner.stats;
            const skipped = s.pending ? `, ${s.pending} skipped` : "";
            console.log(`mocha: ${s.passes} passed, ${s.failures} failed${skipped}`);
        });
    }
}
module.exports = SpecWithSummary;
