#!/usr/bin/env bash
# Builds the three packages into dist/, each carrying the native library for this platform, so
# that installing one needs no Rust toolchain and no library installed system-wide:
#   dist/aichat-<v>-py3-none-<platform>.whl   the Python package, libaichat.so in aichat/_lib/
#   dist/aichat-<v>.tgz                        the npm package, libaichat.so in prebuilds/<platform>-<arch>/
#   dist/go/                                   the Go module, libaichat.a in lib/<goos>_<goarch>/ (static)
# Each carries LICENSE-MIT, LICENSE-APACHE and its README (bindings/<language>/README.md).
# The libraries are target/release's with their debug information stripped. Run through
# `make dist` (which builds first). For another platform, build there (or cross-compile the Rust
# library for it) and run `make dist` again: each package looks up its platform's directory.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
stage=target/dist
rm -rf dist "$stage"
mkdir -p dist "$stage"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) node_dir=linux-x64 go_dir=linux_amd64 ;;
  Linux-aarch64) node_dir=linux-arm64 go_dir=linux_arm64 ;;
  *) echo "dist: packages are built for Linux x86_64 and aarch64 only (this is $(uname -s)-$(uname -m))" >&2; exit 1 ;;
esac

cp target/release/libaichat.so target/release/libaichat.a "$stage/"
strip --strip-debug "$stage/libaichat.so" "$stage/libaichat.a"

# --- Python: a platform wheel ----------------------------------------------------------------
# manylinux_2_<N>: N is the newest glibc symbol version the library needs (what auditwheel
# checks; it needs no library beyond libc and libgcc_s, both allowed by the manylinux policy).
glibc=$(objdump -T "$stage/libaichat.so" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n | tail -n 1 | cut -d. -f2)
arch=$(uname -m)
# The build tools come from PyPI (the README says so): setuptools 77 or newer writes the license
# expression and files (metadata 2.4).
venv=target/dist-venv
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q setuptools==80.9.0 wheel==0.45.1
mkdir -p "$stage/python"
cp -r bindings/python/pyproject.toml bindings/python/setup.py bindings/python/README.md bindings/python/src "$stage/python/"
cp LICENSE-MIT LICENSE-APACHE "$stage/python/"
find "$stage/python" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$stage/python/src/aichat/_lib"
cp "$stage/libaichat.so" "$stage/python/src/aichat/_lib/"
AICHAT_WHEEL_PLATFORM="manylinux_2_${glibc}_${arch}" \
  "$venv/bin/pip" wheel -q --no-deps --no-build-isolation -w dist "$stage/python"

# --- npm: a tarball -----------------------------------------------------------------------
mkdir -p "$stage/node/prebuilds/$node_dir"
cp -r bindings/node/package.json bindings/node/README.md bindings/node/index.js bindings/node/index.cjs \
  bindings/node/index.d.ts bindings/node/lib LICENSE-MIT LICENSE-APACHE "$stage/node/"
cp "$stage/libaichat.so" "$stage/node/prebuilds/$node_dir/"
# `os` and `cpu` from the prebuilds the package carries (linux-x64: os linux, cpu x64), so that
# npm refuses to install it where it has no library.
(cd "$stage/node" && node -e '
const fs = require("fs");
const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
const dirs = fs.readdirSync("prebuilds").sort();
pkg.os = [...new Set(dirs.map((d) => d.split("-")[0]))];
pkg.cpu = [...new Set(dirs.map((d) => d.split("-")[1]))];
fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
')
(cd "$stage/node" && npm pack --silent --pack-destination "$repo/dist" >/dev/null)

# --- Go: the module with the static library inside ----------------------------------------
mkdir -p dist/go/include "dist/go/lib/$go_dir"
cp bindings/go/*.go bindings/go/go.mod bindings/go/README.md LICENSE-MIT LICENSE-APACHE dist/go/
rm -f dist/go/*_test.go dist/go/link_repo.go
cp -r bindings/go/examples dist/go/
cp include/aichat.h dist/go/include/
cp "$stage/libaichat.a" "dist/go/lib/$go_dir/"
static_libs=$(sed -n 's/^STATIC_LIBS := //p' Makefile)
cat > dist/go/link_dist.go <<GO
//go:build !aichat_pkgconfig

package aichat

// The library inside this module (built by \`make dist\`), linked statically: nothing to install.
// Built for: $go_dir. Another platform: build the module there with \`make dist\`.

// #cgo CFLAGS: -I\${SRCDIR}/include
// #cgo ${go_dir%%_*},${go_dir##*_} LDFLAGS: \${SRCDIR}/lib/$go_dir/libaichat.a $static_libs
import "C"
GO
gofmt -l dist/go | (! grep .) || { echo "dist: gofmt would change dist/go" >&2; exit 1; }

echo "dist/: $(cd dist && ls -d aichat-* go | tr '\n' ' ')(version $version)"
