package aichat

// The loop body of a range over Stream or Events runs in Go frames only: leaving it by
// runtime.Goexit (t.FailNow, t.Fatal), a panic or a break frees the request, its connection
// and its library thread.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// openSockets counts this process's open sockets (Linux: /proc/self/fd).
func openSockets(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd here:", err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// settlesTo waits (up to 5 s) for the socket count to come back to at most want.
func settlesTo(t *testing.T, want int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := openSockets(t)
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leaveFiveLoops runs five streams of c whose loop bodies leave by `leave`, each on its own
// goroutine (Goexit ends the goroutine), and waits for them.
func leaveFiveLoops(c *Client, leave func()) {
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { recover() }()
			for _, err := range c.Stream(context.Background(), openai("chunks=100000", hi)) {
				if err == nil {
					leave()
				}
			}
		}()
	}
	wg.Wait()
}

func TestGoexitInTheLoopBodyLeavesNoConnection(t *testing.T) {
	before := openSockets(t)
	c, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	leaveFiveLoops(c, runtime.Goexit)
	c.Close()
	if n := settlesTo(t, before); n > before {
		t.Fatalf("%d sockets open after five Goexit loops, %d before", n, before)
	}
	// Nothing is stuck: a new call works.
	if text, err := newClient(t).Complete(context.Background(), aichat("")); err != nil || text == "" {
		t.Fatalf("after Goexit loops: %q, %v", text, err)
	}
}

func TestPanicInTheLoopBodyLeavesNoConnection(t *testing.T) {
	before := openSockets(t)
	c, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	leaveFiveLoops(c, func() { panic("boom") })
	c.Close()
	if n := settlesTo(t, before); n > before {
		t.Fatalf("%d sockets open after five panicking loops, %d before", n, before)
	}
}

// TestFailNowInTheLoopBodyLeavesNoConnection runs five subtests that call t.FailNow inside a
// range loop, in a child process (they fail on purpose), which reports its open sockets.
func TestFailNowInTheLoopBodyLeavesNoConnection(t *testing.T) {
	if os.Getenv("AICHAT_FAILNOW_CHILD") != "" {
		t.Skip("the child runs TestFailNowChild only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailNowChild$", "-test.v")
	cmd.Env = append(os.Environ(), "AICHAT_FAILNOW_CHILD=1")
	out, _ := cmd.CombinedOutput() // the child fails: its subtests call FailNow
	if !strings.Contains(string(out), "LEAKED 0\n") {
		t.Fatalf("the child left connections open or did not finish:\n%s", out)
	}
}

func TestFailNowChild(t *testing.T) {
	if os.Getenv("AICHAT_FAILNOW_CHILD") == "" {
		t.Skip("run by TestFailNowInTheLoopBodyLeavesNoConnection")
	}
	before := openSockets(t)
	c, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		t.Run("failnow", func(t *testing.T) {
			for _, err := range c.Stream(context.Background(), openai("chunks=100000", hi)) {
				if err == nil {
					t.FailNow()
				}
			}
		})
	}
	c.Close()
	n := settlesTo(t, before)
	os.Stdout.WriteString("LEAKED " + strconv.Itoa(max(n-before, 0)) + "\n")
}
