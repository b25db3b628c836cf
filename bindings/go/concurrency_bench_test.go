//go:build linux

package aichat

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestConcurrencyBench measures what N concurrent streams cost (N from AICHAT_BENCH_N, default
// 2000): OS threads added, resident memory per stream, and the delay from the server writing a
// chunk to a goroutine's range loop receiving it. It runs only with AICHAT_BENCH_CONCURRENCY=1
// and prints one line:
//
//	lang=go n=2000 completed=2000 threads_added=0 kb_per_stream=23.4 p50_ms=0.8 p99_ms=12.3 errors=0
//
//	AICHAT_BENCH_CONCURRENCY=1 AICHAT_BENCH_N=2000 go test -run TestConcurrencyBench -count=1 -v .
//
// The server is AICHAT_BENCH_BASE_URL, else the one TestMain started (which keeps the shell's
// open-file limit: run under `ulimit -n 20000`). Each stream is 10 chunks one second apart,
// each chunk the server's write time in microseconds since the Unix epoch (the `stamp` fault).
func TestConcurrencyBench(t *testing.T) {
	if os.Getenv("AICHAT_BENCH_CONCURRENCY") != "1" {
		t.Skip("a benchmark: set AICHAT_BENCH_CONCURRENCY=1 to run it")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	n := 2000
	if v := os.Getenv("AICHAT_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("AICHAT_BENCH_N=%q", v)
		}
	}
	base := os.Getenv("AICHAT_BENCH_BASE_URL")
	if base == "" {
		base = baseURL
	}
	const chunks = 10
	req := Request{Messages: hi, Options: Options{
		Provider: "openai", Stream: true, NoProxy: true,
		BaseURL: fmt.Sprintf("%s/fault/stamp,delay=2000,interval=1000,chunks=%d/v1", base, chunks),
	}}
	c, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	// Warm-up: the library's I/O thread and one-time allocations belong to the baseline.
	warm := 0
	for _, err := range c.Stream(ctx, req) {
		if err != nil {
			t.Fatal("warm-up stream: ", err)
		}
		warm++
	}
	if warm != chunks {
		t.Fatalf("warm-up stream: %d chunks of %d", warm, chunks)
	}
	baseThreads, baseRSS := benchThreads(t), benchRSSKB(t)

	// reached[k]: streams that received k chunks or ended before; once all N have, sample.
	var reached [chunks + 1]atomic.Int64
	sampleAt := map[int]bool{1: true, 2: true, 5: true}
	var mu sync.Mutex
	peakThreads, peakRSS := baseThreads, baseRSS
	advance := func(k int) {
		if reached[k].Add(1) == int64(n) && sampleAt[k] {
			th, rss := benchThreads(t), benchRSSKB(t)
			mu.Lock()
			peakThreads, peakRSS = max(peakThreads, th), max(peakRSS, rss)
			mu.Unlock()
		}
	}

	var completed, failed atomic.Int64
	var firstErr atomic.Value
	all := make([][]int64, n) // each goroutine's delays in µs, its own slice
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := 0
			delays := make([]int64, 0, chunks)
			var streamErr error
			for chunk, err := range c.Stream(ctx, req) {
				if err != nil {
					streamErr = err
					break
				}
				now := time.Now().UnixMicro()
				if stamp, err := strconv.ParseInt(chunk, 10, 64); err == nil {
					delays = append(delays, now-stamp)
				}
				got++
				if got <= chunks {
					advance(got)
				}
			}
			all[i] = delays
			if streamErr != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, streamErr)
			} else if got == chunks {
				completed.Add(1)
			}
			for k := got + 1; k <= chunks; k++ {
				advance(k)
			}
		}()
	}
	wg.Wait()

	if e := firstErr.Load(); e != nil {
		t.Logf("%d streams failed, the first: %v", failed.Load(), e)
	}
	var delays []int64
	for _, d := range all {
		delays = append(delays, d...)
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	pct := func(p float64) float64 {
		if len(delays) == 0 {
			return 0
		}
		return float64(delays[int(p*float64(len(delays)-1)+0.5)]) / 1000
	}
	fmt.Printf("lang=go n=%d completed=%d threads_added=%d kb_per_stream=%.1f p50_ms=%.1f p99_ms=%.1f errors=%d\n",
		n, completed.Load(), peakThreads-baseThreads, float64(peakRSS-baseRSS)/float64(n), pct(0.50), pct(0.99), failed.Load())
}

// benchThreads is the process's OS thread count.
func benchThreads(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Error(err)
	}
	return len(entries)
}

// benchRSSKB is the process's resident memory (VmRSS) in KB.
func benchRSSKB(t *testing.T) int {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Error(err)
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Error(err)
			}
			return kb
		}
	}
	t.Error("no VmRSS in /proc/self/status")
	return 0
}
