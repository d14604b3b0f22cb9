#!/usr/bin/env bash
# `npm test`: type-check, compile the provider runtime, then run every test tier with mocha.
# Extra arguments go to mocha, e.g. `npm test -- --grep InstanceImage` or a spec path.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
echo "[test] type-checking"
npx tsc -p tsconfig.json --noEmit
echo "[test] compiling the dynamic-provider runtime into dist/"
npx tsc -p tsconfig.build.json
# Spec files given (`npm test -- tests/unit/x.test.ts`): only those run; otherwise every tier.
# (.mocharc.json names no spec: mocha would add its spec to the ones given instead of replacing it.)
spec_given=""
for arg in "$@"; do
  case "$arg" in *.test.ts|tests/*) spec_given=1 ;; esac
done
if [ -z "$spec_given" ]; then set -- "$@" "tests/**/*.test.ts"; fi
exec npx mocha "$@"
