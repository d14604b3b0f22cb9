#!/usr/bin/env bash
# `npm test`: type-check, compile the provider runtime, then run every test tier with mocha.
# Extra arguments go to mocha, e.g. `npm test -- --grep InstanceImage` or a spec path.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
# The two compilations run side by side (each is mostly one core's work):
# - type-checking, which also compiles the e2e programs into .ga/compiled (see
#   tests/e2e/programs/*/Pulumi.yaml);
# - the dynamic-provider runtime into dist/, incremental with its build info inside dist/ (so
#   removing dist/ rebuilds it all): a build with nothing changed rewrites no file, so the
#   demo's own build (scripts/demo.sh) while other test files run never truncates a module a
#   provider process is loading.
echo "[test] type-checking (and compiling the e2e programs), and compiling the dynamic-provider runtime into dist/"
rm -rf .ga/compiled
npx tsc -p tsconfig.json --outDir .ga/compiled --declaration false --sourceMap false & typecheck=$!
npx tsc -p tsconfig.build.json --incremental --tsBuildInfoFile dist/.tsbuildinfo & build=$!
wait "$typecheck" || { echo "[test] type-checking failed"; exit 1; }
wait "$build" || { echo "[test] compiling dist/ failed"; exit 1; }
# Spec files given (`npm test -- tests/unit/x.test.ts`): only those run; otherwise every tier.
# (.mocharc.json names no spec: mocha would add its spec to the ones given instead of replacing it.)
spec_given=""
for arg in "$@"; do
  case "$arg" in *.test.ts|tests/*) spec_given=1 ;; esac
done
if [ -z "$spec_given" ]; then
  # Every file, the slowest first: mocha --parallel hands files to workers in this order, so
  # the longest e2e files (4–7 minutes each when the machine is shared) start at once and the short files fill in around the long ones.
  # (Files not named here come after, tier by tier; each file starts its own emulator and
  # backend, so any order is correct, only slower.)
  # (Order from a measured --parallel run, slowest first: see the "slowest files" line it prints.)
  slowest=(tests/e2e/faults.test.ts tests/e2e/long-wait.test.ts tests/e2e/recovery.test.ts tests/e2e/instance-image.test.ts
           tests/e2e/builder.test.ts tests/e2e/image-copy.test.ts tests/e2e/golden-image.test.ts tests/e2e/aws-settings.test.ts
           tests/e2e/demo.test.ts tests/e2e/accounts.test.ts tests/e2e/readme-aws.test.ts tests/e2e/generations.test.ts tests/e2e/verify.test.ts tests/e2e/secrets.test.ts)
  shopt -s nullglob globstar
  files=()
  for f in "${slowest[@]}" tests/e2e/**/*.test.ts tests/integration/**/*.test.ts tests/emulator/**/*.test.ts tests/unit/**/*.test.ts tests/**/*.test.ts; do
    [ -f "$f" ] || continue
    case " ${files[*]} " in *" $f "*) ;; *) files+=("$f") ;; esac
  done
  set -- "$@" "${files[@]}"
fi
# Test files run side by side (GA_TEST_JOBS workers, 5 by default): most of an e2e file's time is
# waiting for the emulator's timed states and for pulumi's processes to start, which overlaps
# well even on 2 cores (a measured run used 0.6 of a core on average).
exec npx mocha --parallel --jobs "${GA_TEST_JOBS:-5}" "$@"
