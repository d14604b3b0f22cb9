#!/usr/bin/env bash
# `npm run bench`: toolchain on PATH, provider runtime compiled into dist/, then the bench.
# Arguments go to bench/bench.ts, e.g. `npm run bench -- --quick` or `-- --scale 20 --repeat 3`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
echo "[bench] compiling the dynamic-provider runtime into dist/" >&2
npx tsc -p tsconfig.build.json
exec npx ts-node --transpile-only bench/bench.ts "$@"
