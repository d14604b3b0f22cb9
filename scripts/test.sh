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
exec npx mocha "$@"
