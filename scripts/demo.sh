#!/usr/bin/env bash
# `npm run demo`: the main job on the embedded EC2 emulator. `npm run demo -- --destroy` removes it all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
# The provider runtime the dynamic providers load. Incremental, as in scripts/test.sh: with
# nothing changed no file is rewritten (the demo e2e test runs beside other test files).
npx tsc -p tsconfig.build.json --incremental --tsBuildInfoFile dist/.tsbuildinfo
exec npx ts-node --transpile-only scripts/demo.ts "$@"
