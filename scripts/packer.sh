#!/usr/bin/env bash
# Makes sure Packer and its Amazon plugin are built, for the bench's comparison with Packer
# (bench/experiments/packer.ts), and prints the directory that holds them:
#
#   bash scripts/packer.sh     # → ~/.cache/golden-ami/packer-v1.11.2 (bin/packer, plugins/)
#
# Like the Pulumi CLI (scripts/toolchain.sh), they are built from Go modules into a cache
# outside the repository, one directory per version pair, reused by every later run:
#   GA_PACKER_VERSION          default 1.11.2 (the newest the Go module proxy serves)
#   GA_PACKER_AMAZON_VERSION   default 1.3.4  (the proxy serves 1.3.2, 1.3.4 and 1.8.0;
#                              1.4.0-1.6.0 answer 403)
# `go install module@version` refuses both modules (their go.mod has a replace directive, of
# go-cty), and a throwaway module that requires them would drop that replace: so each module
# is downloaded (`go mod download`) and built inside a writable copy of its own directory.
# The plugin is then installed the way Packer finds it (`packer plugins install --path`, which
# names it by the version the binary reports and writes its checksum file).
# Progress goes to stderr; a cold build takes several minutes and about 1 GB of module cache.
set -euo pipefail

GA_PACKER_VERSION="${GA_PACKER_VERSION:-1.11.2}"
GA_PACKER_AMAZON_VERSION="${GA_PACKER_AMAZON_VERSION:-1.3.4}"
GA_CACHE_DIR="${GA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/golden-ami}"
dir="$GA_CACHE_DIR/packer-v$GA_PACKER_VERSION"
plugins="$dir/plugins"
log() { echo "[packer] $*" >&2; }

installed_plugin() {
  ls "$plugins/github.com/hashicorp/amazon/packer-plugin-amazon_v${GA_PACKER_AMAZON_VERSION}_"* 2>/dev/null | grep -v SHA256SUM | head -n1
}

# Builds module $1 at version $2 into $3 (renamed into place only once compiled).
build_module() {
  local module="$1" version="$2" out="$3" src work
  src="$(cd "$GA_CACHE_DIR" && go mod download -json "$module@v$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -n "$src" ] && [ -d "$src" ] || { log "go mod download $module@v$version failed"; return 1; }
  work="$(mktemp -d "$GA_CACHE_DIR/.packer-build-XXXXXX")"
  # The module cache is read-only; the build may write go.sum entries.
  cp -r "$src/." "$work/" && chmod -R u+w "$work"
  log "compiling $module@v$version"
  if (cd "$work" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" .) && mv "$out.tmp" "$out"; then
    rm -rf "$work"
  else
    rm -rf "$work" "$out.tmp"; log "building $module@v$version failed (see the go output above)"; return 1
  fi
}

mkdir -p "$dir/bin" "$plugins"
if ! "$dir/bin/packer" version 2>/dev/null | grep -q "Packer v$GA_PACKER_VERSION"; then
  log "no Packer v$GA_PACKER_VERSION in $dir: building it from Go modules (first use; later runs reuse it)"
  build_module github.com/hashicorp/packer "$GA_PACKER_VERSION" "$dir/bin/packer"
fi
if [ -z "$(installed_plugin)" ]; then
  log "no packer-plugin-amazon v$GA_PACKER_AMAZON_VERSION in $plugins: building it from Go modules"
  build_module github.com/hashicorp/packer-plugin-amazon "$GA_PACKER_AMAZON_VERSION" "$dir/bin/packer-plugin-amazon-v$GA_PACKER_AMAZON_VERSION"
  PACKER_PLUGIN_PATH="$plugins" PACKER_CONFIG_DIR="$dir" CHECKPOINT_DISABLE=1 \
    "$dir/bin/packer" plugins install --path "$dir/bin/packer-plugin-amazon-v$GA_PACKER_AMAZON_VERSION" github.com/hashicorp/amazon >&2
  [ -n "$(installed_plugin)" ] || { log "packer plugins install did not install v$GA_PACKER_AMAZON_VERSION"; exit 1; }
fi
log "$("$dir/bin/packer" version | head -n1), plugin $(basename "$(installed_plugin)")"
echo "$dir"
