//go:build unix

package aichat

import (
	"os"
	"syscall"
)

// readyWaiter parks a goroutine until a stream's descriptor (aichat_stream_fd) turns readable,
// on Go's own network poller: no OS thread is held while a stream is silent, however many
// goroutines wait. It watches a duplicate of the descriptor, so closing it never touches the
// stream's own.
type readyWaiter struct {
	file *os.File
	conn syscall.RawConn
}

func newReadyWaiter(fd int) (*readyWaiter, error) {
	dup, err := syscall.Dup(fd)
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(dup)
	// The descriptor is non-blocking, so the file is registered with the poller.
	file := os.NewFile(uintptr(dup), "aichat-stream")
	conn, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, err
	}
	return &readyWaiter{file: file, conn: conn}, nil
}

// wait returns once the descriptor turned readable after the caller found nothing to take.
// The library writes a byte to the descriptor each time it turns ready, and the poller reports
// each write, so a readiness that came after the caller's last pull is never missed; one that
// came before it only makes the caller pull once more.
func (w *readyWaiter) wait() error {
	first := true
	return w.conn.Read(func(uintptr) bool {
		if first {
			first = false
			return false // wait for the poller
		}
		return true
	})
}

func (w *readyWaiter) close() {
	w.file.Close()
}
