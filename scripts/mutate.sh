#!/usr/bin/env bash
# `npm run mutate`: StrykerJS over the product code with the unit tier (stryker.config.mjs),
# then the score per module from its JSON report (scripts/mutation-report.ts). Not part of
# `npm test`. Extra arguments go to `stryker run`, e.g.
#   npm run mutate -- --mutate 'providers/ec2/*.ts'    # one layer
#   npm run mutate -- --concurrency 2                   # when the machine is free
# The unit tier needs neither the Pulumi CLI nor the emulator, so no toolchain is sourced.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npx stryker run "$@"
exec npx ts-node --transpile-only scripts/mutation-report.ts
