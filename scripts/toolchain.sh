#!/usr/bin/env bash
# Puts a Pulumi CLI (>= 3.248), a Node.js language host and the dynamic-provider host on
# PATH, with a local file backend and no network side effects.
#
#   source scripts/toolchain.sh      # exports PATH and PULUMI_* for the caller
#   bash scripts/toolchain.sh        # only makes sure the toolchain is built
#
# The release installers download binaries, which this machine cannot do, so when no
# suitable `pulumi` is on PATH the CLI is built from Go modules into a cache outside the
# repository that every later run on this machine (CI included) reuses. The Go language
# host module (sdk/nodejs/cmd/pulumi-language-nodejs) is not served by the Go proxy here,
# so unless a `pulumi-language-nodejs` is on PATH, scripts/language-host/ stands in for it.
# Strict mode only when executed: sourcing must not change the caller's shell options.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then set -euo pipefail; fi

GA_PULUMI_VERSION="${GA_PULUMI_VERSION:-3.248.0}"
GA_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GA_CACHE_DIR="${GA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/golden-ami}"
GA_TOOLCHAIN_DIR="$GA_CACHE_DIR/pulumi-v$GA_PULUMI_VERSION"

ga_log() { echo "[toolchain] $*" >&2; }

# 0 when `$1 version` prints a version >= GA_PULUMI_VERSION.
ga_pulumi_is_recent() {
  local have
  have="$("$1" version 2>/dev/null | sed 's/^v//')" || return 1
  [ -n "$have" ] || return 1
  [ "$(printf '%s\n%s\n' "$GA_PULUMI_VERSION" "${have%%-*}" | sort -V | head -n1)" = "$GA_PULUMI_VERSION" ]
}

ga_build_pulumi() {
  local build="$GA_TOOLCHAIN_DIR/build" bin="$GA_TOOLCHAIN_DIR/bin"
  mkdir -p "$build" "$bin"
  ga_log "no pulumi >= $GA_PULUMI_VERSION on PATH: building the CLI from Go modules into $GA_TOOLCHAIN_DIR"
  ga_log "(a cold build takes 10-20 minutes and about 2 GB of module cache; later runs reuse it)"
  (
    set -euo pipefail
    cd "$build"
    # A throwaway module: `go install mod@version` refuses modules whose go.mod has replace
    # directives, while a dependency's replace directives are simply ignored.
    [ -f go.mod ] || go mod init golden-ami.local/pulumi-toolchain >/dev/null 2>&1
    export CGO_ENABLED=0 GOFLAGS=-mod=mod
    ga_log "resolving modules (go get)"
    go get "github.com/pulumi/pulumi/pkg/v3@v$GA_PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$GA_PULUMI_VERSION"
    ga_log "compiling pulumi"
    go build -trimpath \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$GA_PULUMI_VERSION" \
      -o "$bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    # Renamed only once compiled, so an interrupted build never looks valid.
    mv "$bin/pulumi.tmp" "$bin/pulumi"
  ) || { ga_log "building the Pulumi CLI failed (see the go output above)"; return 1; }
  ga_log "built $("$bin/pulumi" version)"
}

ga_ensure_toolchain() {
  local bin="$GA_TOOLCHAIN_DIR/bin" onpath
  onpath="$(command -v pulumi || true)"
  if [ -n "$onpath" ] && [ "$onpath" != "$bin/pulumi" ] && ga_pulumi_is_recent "$onpath"; then
    ga_log "using $onpath ($("$onpath" version))"
  else
    if [ -x "$bin/pulumi" ] && ga_pulumi_is_recent "$bin/pulumi"; then
      ga_log "using cached $bin/pulumi ($("$bin/pulumi" version))"
    else
      ga_build_pulumi || return 1
    fi
    export PATH="$bin:$PATH"
  fi
  # Plugins beside the CLI binary count as bundled (found without PATH warnings). Copies,
  # not links: the cache outlives any one clone of this repository (CI uses fresh clones).
  local pulumi_dir; pulumi_dir="$(dirname "$(command -v pulumi)")"
  if [ "$pulumi_dir" = "$bin" ]; then
    if [ ! -x "$bin/pulumi-language-nodejs" ] || ! cmp -s "$GA_REPO_ROOT/scripts/language-host/language-host.js" "$bin/language-host.js"; then
      cp "$GA_REPO_ROOT/scripts/language-host/pulumi-language-nodejs" "$GA_REPO_ROOT/scripts/language-host/language-host.js" "$bin/"
    fi
    # The dynamic-provider host ships inside @pulumi/pulumi and resolves it from the working directory.
    local host="$GA_REPO_ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
    if [ -x "$host" ]; then
      cmp -s "$host" "$bin/pulumi-resource-pulumi-nodejs" || cp "$host" "$bin/"
    else
      ga_log "warning: $host missing: run npm ci first"
    fi
  else
    command -v pulumi-language-nodejs >/dev/null 2>&1 || export PATH="$GA_REPO_ROOT/scripts/language-host:$PATH"
    export PATH="$GA_REPO_ROOT/node_modules/@pulumi/pulumi:$PATH"
  fi
  export PULUMI_HOME="${PULUMI_HOME:-$GA_REPO_ROOT/.ga/pulumi-home}"
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$GA_REPO_ROOT/.ga/state}"
  mkdir -p "$PULUMI_HOME" "${PULUMI_BACKEND_URL#file://}"
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-golden-ami-local}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
  # This project pins Node 20 on purpose (see FIELD-NOTES); the SDK's reminder is noise here.
  export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
}

ga_ensure_toolchain || { ga_log "toolchain set-up failed"; return 1 2>/dev/null || exit 1; }
