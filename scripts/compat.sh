#!/usr/bin/env bash
# The compatibility job: the oldest toolchain package.json still admits (`engines.node` and
# the lower ends of the dependency ranges) runs the unit tier and one end-to-end program, so
# that those lower ends stay true. The machine's Node (20), the Pulumi CLI v3.248.0 with its
# own language host, and the dependency tree of scripts/compat.package-lock.json
# (@pulumi/pulumi 3.248.0, @pulumi/aws 7.48.0, the same @aws-sdk/* as the main lockfile).
#
#   bash scripts/compat.sh               # the default specs below
#   bash scripts/compat.sh <spec>...     # other specs, as for `npm test -- <spec>`
#
# It works in a copy of the repository's files outside the repository, so the main
# node_modules/ and .ga/ stay as they are and nothing resolves through them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
specs=("$@")
shopt -s globstar
[ ${#specs[@]} -gt 0 ] || specs=(tests/unit/**/*.test.ts tests/e2e/instance-image.test.ts)

export GA_NODE_VERSION="${GA_COMPAT_NODE_VERSION:-system}"
export GA_PULUMI_VERSION=3.248.0 GA_PULUMI_MATCH=exact
# The copy has no ../shared beside it: point the toolchain at the repository's.
GA_SHARED_DIR="${GA_SHARED_DIR:-$root/../shared}"
[ -d "$GA_SHARED_DIR" ] && GA_SHARED_DIR="$(cd "$GA_SHARED_DIR" && pwd)"
export GA_SHARED_DIR

work="$(mktemp -d "${TMPDIR:-/tmp}/golden-ami-compat-XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "[compat] copying the repository's files into $work"
# Tracked and untracked-but-not-ignored files, as they are in the working tree.
(cd "$root" && git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$work"
cp "$root/scripts/compat.package-lock.json" "$work/package-lock.json"
cd "$work"
echo "[compat] npm ci with scripts/compat.package-lock.json"
npm ci --no-audit --no-fund
echo "[compat] versions: node $(node --version), @pulumi/pulumi $(node -p 'require("@pulumi/pulumi/package.json").version'), @pulumi/aws $(node -p 'require("@pulumi/aws/package.json").version')"
bash scripts/test.sh "${specs[@]}"
