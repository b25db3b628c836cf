//go:build !aichat_pkgconfig

package aichat

// Inside the repository: the header and the library `make build` produced, found relative to
// this package, so `go test ./...` works right after the build with nothing set by hand.
// Outside it, build with `-tags aichat_pkgconfig` after `make install` (see README).

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: -L${SRCDIR}/../../target/release -laichat -Wl,-rpath,${SRCDIR}/../../target/release
import "C"
