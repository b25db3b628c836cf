//go:build aichat_pkgconfig

package aichat

// An installed library (`make install PREFIX=...`), found through pkg-config: when PREFIX is
// not a system location, set PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig, and
// CGO_LDFLAGS="-Wl,-rpath,$PREFIX/lib" so that the program finds libaichat.so.0 when it runs.

// #cgo pkg-config: aichat
import "C"
