//go:build aichat_pkgconfig

package aichat

// An installed library (`make install PREFIX=...`), found through pkg-config: set
// PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig when PREFIX is not a system location.

// #cgo pkg-config: aichat
import "C"
