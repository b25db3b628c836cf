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

// wait returns once the descriptor is readable: at once when it already is, else when the
// poller says it turned so. Go's poller is edge-triggered, and RawRead forgets an edge that came
// before it started (it resets the descriptor's readiness first), so a byte written between the
// caller's last pull and this call would never be reported again: the first look peeks at the
// descriptor itself, after that reset, and any write after the peek is an edge the poller keeps.
func (w *readyWaiter) wait() error {
	first := true
	return w.conn.Read(func(fd uintptr) bool {
		if first {
			first = false
			return readable(int(fd)) // else wait for the poller
		}
		return true
	})
}

// readable says whether the descriptor holds its byte, without taking it.
func readable(fd int) bool {
	var b [1]byte
	n, _, err := syscall.Recvfrom(fd, b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == nil && n > 0
}

func (w *readyWaiter) close() {
	w.file.Close()
}
