#!/usr/bin/env bash
# What `make test` needs beyond the machine's toolchains, installed when missing, so that the
# README's test command works on a fresh machine with nothing run before it: Debian packages
# (valgrind, g++, cmake, pkg-config, file, gcc's sanitizer runtimes) and, through make, the Node
# binding's npm packages. Rust (stable and nightly, for the AddressSanitizer run), Go and Node
# come with this kind of machine; their absence is reported, not papered over.
set -euo pipefail

apt_packages=()
command -v cc >/dev/null || apt_packages+=(gcc libc6-dev)
command -v make >/dev/null || apt_packages+=(make)
command -v valgrind >/dev/null || apt_packages+=(valgrind)
command -v git >/dev/null || apt_packages+=(git)
command -v c++ >/dev/null || apt_packages+=(g++)
command -v cmake >/dev/null || apt_packages+=(cmake)
command -v pkg-config >/dev/null || apt_packages+=(pkg-config)
command -v file >/dev/null || apt_packages+=(file)
# The C tests run under AddressSanitizer/UBSan: make sure gcc's runtimes are there.
probe=$(mktemp)
if ! echo 'int main(void){return 0;}' | cc -x c - -fsanitize=address,undefined -o "$probe" 2>/dev/null; then
  apt_packages+=(libasan8 libubsan1)
fi
rm -f "$probe"
if ((${#apt_packages[@]})); then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "make test needs these Debian packages: ${apt_packages[*]} (install them, or run as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}"
fi

command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup" >&2; exit 1; }
# The Rust tests also run under AddressSanitizer, which needs the nightly toolchain.
rustup run nightly rustc --version >/dev/null 2>&1 ||
  { echo "the nightly Rust toolchain is missing (rustup toolchain install nightly)" >&2; exit 1; }
for tool in go node npm; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done
echo "test setup: ok"
