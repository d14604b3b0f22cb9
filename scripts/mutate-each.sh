#!/usr/bin/env bash
# `npm run mutate:each -- FILE...`: StrykerJS over each product file on its own, one run after
# the other, each with its own incremental file (reports/mutation/incremental-<file>.json), so
# results arrive file by file, a rerun after new tests re-tests only what they cover, and runs
# over different files never overwrite each other's results. Then the per-module tables of
# every file's latest run (scripts/mutation-report.ts). Not part of `npm test`.
#
# The fast mode of docs/mutation-testing.md: no TypeScript checker (on this 2-core machine it
# was ~95% of the time, the test runner idle) and no static mutants (each runs the whole unit
# tier). GA_MUTATE_CHECKER=1 keeps the checker; the static mutants are then still skipped.
#   npm run mutate:each -- providers/lifecycle/image-lifecycle.ts providers/ec2/images.ts
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "$#" -gt 0 ] || { echo "usage: npm run mutate:each -- FILE..." >&2; exit 2; }
checker=(--checkers "")
[ "${GA_MUTATE_CHECKER:-}" = 1 ] && checker=()
reports=()
for file in "$@"; do
    name=$(echo "$file" | sed 's|^providers/||; s|/|-|g; s|\.ts$||')
    incremental="reports/mutation/incremental-${name}.json"
    echo "[mutate] $file: $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
    start=$(date +%s)
    npx stryker run --mutate "$file" --ignoreStatic "${checker[@]}" --incrementalFile "$incremental" --reporters clear-text,progress
    echo "[mutate] $file: $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
    reports+=(--report "$incremental")
done
exec npx ts-node --transpile-only scripts/mutation-report.ts "${reports[@]}"
