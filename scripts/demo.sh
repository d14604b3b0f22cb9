#!/usr/bin/env bash
# `npm run demo`: the main job on the embedded EC2 emulator. `npm run demo -- --destroy` removes it all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
npx tsc -p tsconfig.build.json   # the provider runtime the dynamic providers load
exec npx ts-node --transpile-only scripts/demo.ts "$@"
