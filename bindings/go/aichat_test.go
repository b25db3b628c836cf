package aichat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// baseURL is the local test server's address, started by TestMain.
var baseURL string

func TestMain(m *testing.M) {
	server := os.Getenv("AICHAT_TESTSERVER")
	if server == "" {
		server = filepath.Join("..", "..", "target", "release", "aichat-testserver")
	}
	cmd := exec.Command(server, "0")
	// The server exits when its stdin ends: when this process ends, however it ends.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		panic(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		panic(err)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot start the test server %s (run `make build` first): %v\n", server, err)
		os.Exit(1)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		panic(err)
	}
	baseURL = strings.TrimSpace(line)
	code := m.Run()
	stdin.Close()
	cmd.Wait()
	os.Exit(code)
}

var hi = []Message{{Role: "user", Content: "Hi"}}

func ptr[T any](v T) *T { return &v }

func openai(fault string, msgs []Message) Request {
	base := baseURL
	if fault != "" {
		base += "/fault/" + fault
	}
	return Request{Messages: msgs, Options: Options{Provider: "openai", Stream: true, BaseURL: base + "/v1", MaxRetries: ptr(0)}}
}

func aichat(fault string) Request {
	base := baseURL
	if fault != "" {
		base += "/fault/" + fault
	}
	return Request{Messages: hi, Options: Options{BaseURL: base, MaxRetries: ptr(0)}}
}

func newClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(Options{Proxy: ""})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStreamYieldsEachChunkInOrder(t *testing.T) {
	c := newClient(t)
	var chunks []string
	for chunk, err := range c.Stream(context.Background(), openai("", []Message{{Role: "user", Content: "one two"}})) {
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, chunk)
	}
	want := []string{"You ", "said: ", "one ", "two"}
	if fmt.Sprint(chunks) != fmt.Sprint(want) {
		t.Fatalf("chunks %q, want %q", chunks, want)
	}
}

func TestCompleteReturnsTheWholeText(t *testing.T) {
	c := newClient(t)
	text, err := c.Complete(context.Background(), aichat(""))
	if err != nil || text != "You said: Hi" {
		t.Fatalf("%q, %v", text, err)
	}
}

func TestPackageLevelFunctionsUseADefaultClient(t *testing.T) {
	text, err := Complete(context.Background(), openai("", hi))
	if err != nil || text != "You said: Hi" {
		t.Fatalf("%q, %v", text, err)
	}
	n := 0
	for _, err := range Stream(context.Background(), openai("", hi)) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("%d chunks", n)
	}
}

func TestErrorCodesMapToSentinels(t *testing.T) {
	closedPort := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		defer l.Close()
		return l.Addr().String()
	}()
	cases := []struct {
		name     string
		req      Request
		sentinel error
		code     Code
		http     int
	}{
		{"http status", aichat("status=503"), ErrHTTPStatus, CodeHTTPStatus, 503},
		{"server", aichat("response-false"), ErrServer, CodeServer, 200},
		{"protocol", aichat("not-json"), ErrProtocol, CodeProtocol, 200},
		{"io", aichat("truncate"), ErrIO, CodeIO, 200},
		{"invalid request", Request{Messages: hi, Options: Options{Provider: "nope"}}, ErrInvalidRequest, CodeInvalidRequest, 0},
		{"connect", Request{Messages: hi, Options: Options{BaseURL: "http://" + closedPort, MaxRetries: ptr(0), Proxy: ""}}, ErrConnect, CodeConnect, 0},
		{"timeout", func() Request { r := aichat("silence"); r.IdleTimeout = 200 * time.Millisecond; return r }(), ErrTimeout, CodeTimeout, 0},
		{"too large", func() Request { r := aichat("size=5000"); r.MaxResponseBytes = 1000; return r }(), ErrTooLarge, CodeTooLarge, 200},
		{"stream cut", openai("cut,chunks=4", hi), ErrProtocol, CodeProtocol, 200},
		{"stream error event", openai("error-event", hi), ErrServer, CodeServer, 200},
	}
	c := newClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Complete(context.Background(), tc.req)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not *Error", err)
			}
			if e.Code != tc.code || !errors.Is(err, tc.sentinel) || e.HTTPStatus != tc.http {
				t.Fatalf("got %v (http %d), want %v (http %d)", e, e.HTTPStatus, tc.code, tc.http)
			}
			if e.Message == "" {
				t.Fatal("empty message")
			}
			if errors.Is(err, ErrInternal) {
				t.Fatal("matches another code's sentinel")
			}
		})
	}
}

func TestCodeNamesAreTheCNames(t *testing.T) {
	if CodeTimeout.String() != "AICHAT_ERROR_TIMEOUT" || CodeInternal.String() != "AICHAT_ERROR_INTERNAL" ||
		Code(42).String() != "AICHAT_UNKNOWN" || Code(-1).String() != "AICHAT_UNKNOWN" {
		t.Fatal("names")
	}
	for _, s := range []*Error{ErrInvalidArgument, ErrInvalidRequest, ErrConnect, ErrTimeout, ErrHTTPStatus, ErrProtocol,
		ErrServer, ErrCancelled, ErrIO, ErrTooLarge, ErrInternal} {
		if !errors.Is(&Error{Code: s.Code, Message: "x"}, s) {
			t.Fatalf("%v", s)
		}
	}
}

func TestContextCancelStopsASilentServerWithin100ms(t *testing.T) {
	c := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	var cancelledAt time.Time
	time.AfterFunc(300*time.Millisecond, func() { cancelledAt = time.Now(); cancel() })
	_, err := c.Complete(ctx, aichat("silence"))
	late := time.Since(cancelledAt)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("err %v", err)
	}
	// The contract is 100 ms (a few ms here); the margin is for a loaded machine.
	if late > 500*time.Millisecond {
		t.Fatalf("returned %v after cancel", late)
	}
}

func TestContextDeadline(t *testing.T) {
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := c.Complete(ctx, openai("chunks=10,silence-after=2", hi))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(started); d > 1000*time.Millisecond {
		t.Fatalf("took %v", d)
	}
}

func TestAlreadyCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newClient(t).Complete(ctx, aichat(""))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestBreakStopsThenTheClientWorks(t *testing.T) {
	c := newClient(t)
	n := 0
	for _, err := range c.Stream(context.Background(), openai("chunks=1000", hi)) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("%d", n)
	}
	text, err := c.Complete(context.Background(), openai("", hi))
	if err != nil || text != "You said: Hi" {
		t.Fatalf("%q %v", text, err)
	}
}

func TestSixteenGoroutinesShareAClient(t *testing.T) {
	c := newClient(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				content := fmt.Sprintf("g%d i%d", g, i)
				text, err := c.Complete(context.Background(), openai("", []Message{{Role: "user", Content: content}}))
				if err != nil || text != "You said: "+content {
					errs <- fmt.Errorf("%q %v", text, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestPanicInTheLoopBodyIsReRaisedAfterTheCall(t *testing.T) {
	c := newClient(t)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v", r)
			}
		}()
		for range c.Stream(context.Background(), openai("chunks=100", hi)) {
			panic("boom")
		}
		t.Fatal("no panic")
	}()
	if _, err := c.Complete(context.Background(), openai("", hi)); err != nil {
		t.Fatalf("client unusable after a panic: %v", err)
	}
}

func TestCloseThenUseFailsCleanly(t *testing.T) {
	c, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Close() != nil || c.Close() != nil {
		t.Fatal("close")
	}
	_, err = c.Complete(context.Background(), aichat(""))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("err %v", err)
	}
}

func TestBadOptionsAreRefused(t *testing.T) {
	_, err := NewClient(Options{Provider: "bard"})
	if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "accepted values") {
		t.Fatalf("err %v", err)
	}
}

func TestOptionsAreClientDefaults(t *testing.T) {
	c, err := NewClient(Options{Provider: "openai", BaseURL: baseURL + "/v1", Stream: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	text, err := c.Complete(context.Background(), Request{Messages: hi})
	if err != nil || text != "You said: Hi" {
		t.Fatalf("%q %v", text, err)
	}
}

func TestDurationsBecomeMilliseconds(t *testing.T) {
	js, _ := Request{Messages: hi, Options: Options{IdleTimeout: 1500 * time.Microsecond, Timeout: 2 * time.Second}}.json()
	if !strings.Contains(string(js), `"idle_timeout_ms":2`) || !strings.Contains(string(js), `"timeout_ms":2000`) ||
		strings.Contains(string(js), "connect_timeout_ms") {
		t.Fatal(string(js))
	}
}

func TestCAFileIsPassedAsCaFile(t *testing.T) {
	_, err := newClient(t).Complete(context.Background(), Request{Messages: hi, Options: Options{BaseURL: "https://127.0.0.1:9", CAFile: "/nonexistent.pem"}})
	if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("err %v", err)
	}
}

// BenchmarkStream reports chunks per second delivered to a range loop for a long stream
// (AICHAT_BENCH_CHUNKS chunks, default 100,000) of the test server, or of the OpenAI-compatible
// base URL in AICHAT_BENCH_OPENAI_URL (make bench: nginx serving a recorded stream).
func BenchmarkStream(b *testing.B) {
	c, err := NewClient(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	chunks := 100_000
	if n, err := strconv.Atoi(os.Getenv("AICHAT_BENCH_CHUNKS")); err == nil && n > 0 {
		chunks = n
	}
	req := openai(fmt.Sprintf("chunks=%d", chunks), hi)
	if url := os.Getenv("AICHAT_BENCH_OPENAI_URL"); url != "" {
		req.BaseURL = url
	}
	b.ResetTimer()
	for range b.N {
		n := 0
		for _, err := range c.Stream(context.Background(), req) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != chunks {
			b.Fatalf("%d chunks", n)
		}
	}
	b.ReportMetric(float64(chunks*b.N)/b.Elapsed().Seconds(), "chunks/s")
}

// Every setting of the library's table is an Options field (options_gen.go is generated from
// it): tls_roots and user, the two the hand-written options once lacked, reach the library.
func TestGeneratedOptionsReachTheLibrary(t *testing.T) {
	if _, err := NewClient(Options{TLSRoots: "mine"}); !errors.Is(err, ErrInvalidRequest) ||
		!strings.Contains(err.Error(), "`tls_roots` is \"mine\"") {
		t.Fatalf("tls_roots: %v", err)
	}
	c, err := NewClient(Options{TLSRoots: "system"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Complete(context.Background(), Request{Messages: hi, Options: Options{User: "u-1"}})
	if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "`user` is not supported by the aichat provider") {
		t.Fatalf("user: %v", err)
	}
}
