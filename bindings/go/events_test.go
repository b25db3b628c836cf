package aichat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

var weather = []Tool{{Type: "function", Function: FunctionTool{
	Name:       "get_weather",
	Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
}}}

func withTools(r Request) Request {
	r.Tools = weather
	return r
}

func TestEventsComeInOrderWithToolCallAndUsage(t *testing.T) {
	var kinds []EventKind
	var args strings.Builder
	var usage *Usage
	for e, err := range newClient(t).Events(context.Background(), withTools(openai("", hi))) {
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, e.Kind)
		switch e.Kind {
		case EventToolCall:
			if e.ID != "call_aichat_0" || e.Name != "get_weather" || e.Index != 0 {
				t.Errorf("tool call %+v", e)
			}
		case EventToolArguments:
			args.WriteString(e.Text)
		case EventUsage:
			usage = e.Usage
		}
	}
	if kinds[0] != EventResponse || kinds[len(kinds)-1] != EventMessage {
		t.Errorf("kinds %v", kinds)
	}
	if args.String() != `{"city":"Hi"}` {
		t.Errorf("arguments %q", args.String())
	}
	if usage == nil || *usage != (Usage{9, 12, 21, 3, 4}) {
		t.Errorf("usage %+v", usage)
	}
}

func TestRunGathersTheWholeAnswer(t *testing.T) {
	c := newClient(t)
	r, err := c.Run(context.Background(), openai("reasoning", hi))
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "You said: Hi" || r.Reasoning != "The user wrote something; I will quote it back." {
		t.Errorf("text %q reasoning %q", r.Text, r.Reasoning)
	}
	if r.FinishReason != "stop" || r.RequestID != "req-aichat-test" || r.ResponseID != "chatcmpl-aichat-test" {
		t.Errorf("result %+v", r)
	}
	if r.Message.Role != "assistant" || r.Message.Content != "You said: Hi" || r.Message.ReasoningContent != r.Reasoning {
		t.Errorf("message %+v", r.Message)
	}
	refused, err := c.Run(context.Background(), openai("refusal", hi))
	if err != nil || refused.Refusal != "I can't help with that." || refused.Message.Content != nil {
		t.Errorf("refusal %+v %v", refused, err)
	}
}

func TestToolRoundTrip(t *testing.T) {
	c := newClient(t)
	req := withTools(openai("", []Message{{Role: "user", Content: "Paris"}}))
	first, err := c.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.FinishReason != "tool_calls" || len(first.ToolCalls) != 1 || first.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` {
		t.Fatalf("first turn %+v", first)
	}
	req.Messages = append(req.Messages, first.Message,
		Message{Role: "tool", ToolCallID: first.ToolCalls[0].ID, Content: "sunny"})
	second, err := c.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if second.Text != "The tool returned: sunny" {
		t.Errorf("second turn %q", second.Text)
	}
}

func TestRichMessagesAndNewFieldsReachTheServer(t *testing.T) {
	req := openai("echo", []Message{
		{Role: "user", Content: []ContentPart{{Type: "text", Text: "What is this?"},
			{Type: "image_url", ImageURL: &ImageURL{URL: "data:image/png;base64,AAAA"}}}},
	})
	req.Tools, req.ToolChoice, req.Stop, req.Seed, req.N = weather, "auto", []string{"END"}, ptr[int64](7), 1
	req.ReasoningEffort, req.ParallelToolCalls, req.IncludeUsage = "low", ptr(false), ptr(false)
	req.ResponseFormat = map[string]any{"type": "json_object"}
	text, err := newClient(t).Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var seen struct{ Body map[string]any }
	if err := json.Unmarshal([]byte(text), &seen); err != nil {
		t.Fatal(err)
	}
	b := seen.Body
	part := b["messages"].([]any)[0].(map[string]any)["content"].([]any)[1].(map[string]any)
	if part["image_url"].(map[string]any)["url"] != "data:image/png;base64,AAAA" {
		t.Errorf("content part %v", part)
	}
	if b["tool_choice"] != "auto" || b["seed"] != 7.0 || b["n"] != 1.0 || b["reasoning_effort"] != "low" ||
		b["parallel_tool_calls"] != false || b["stream_options"] != nil || b["tools"] == nil {
		t.Errorf("body %v", b)
	}
}

func TestEventsBreakAndPanicStopTheCall(t *testing.T) {
	c := newClient(t)
	n := 0
	for range c.Events(context.Background(), openai("chunks=1000", hi)) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("n %d", n)
	}
	defer func() {
		if r := recover(); r != "in the loop" {
			t.Errorf("recovered %v", r)
		}
	}()
	for range c.Events(context.Background(), openai("chunks=1000", hi)) {
		panic("in the loop")
	}
}

func TestEventsReportFailuresAsErrors(t *testing.T) {
	var last error
	for _, err := range newClient(t).Events(context.Background(), openai("error-event", hi)) {
		last = err
	}
	if !errors.Is(last, ErrServer) {
		t.Errorf("error %v", last)
	}
}

func TestEveryProtocolGivesTheSameResult(t *testing.T) {
	c := newClient(t)
	// The server's usage is 9 + 12 = 21 in every protocol but Bedrock's, whose prompt count
	// adds the cache reads and writes to the input (6 + 3 + 2 = 11): 11 + 12 = 23.
	for _, p := range []struct {
		provider, path string
		total          int64
	}{{"openai", "/v1", 21}, {"anthropic", "/v1", 21}, {"ollama", "", 21}, {"responses", "/v1", 21}, {"groq", "/v1", 21},
		{"gemini", "/v1beta", 21}, {"bedrock", "", 23}} {
		// Bedrock wants credentials: a bearer token here (the server takes any), so the
		// environment's AWS settings play no part.
		req := Request{Messages: hi, Options: Options{Provider: p.provider, Model: "m", Stream: true, BaseURL: baseURL + p.path,
			APIKey: "test-key", MaxRetries: ptr(0)}}
		r, err := c.Run(context.Background(), req)
		if err != nil {
			t.Fatalf("%s: %v", p.provider, err)
		}
		if r.Text != "You said: Hi" || r.FinishReason != "stop" || r.Usage == nil || r.Usage.TotalTokens != p.total {
			t.Errorf("%s: %+v", p.provider, r)
		}
	}
}

// The test server's SigV4 credentials (testserver/src/sigv4.rs).
const bedrockKeyID, bedrockSecret = "AKIDTESTBEDROCK", "test/secret/KEY+1"

// setAWSKeys puts SigV4 keys and a region in the environment for this test only (t.Setenv
// restores the old values). The variables that would change what a client does with them are
// set empty, which the library takes as unset: a Bedrock API key (AWS_BEARER_TOKEN_BEDROCK)
// would be sent instead of a signature, and a session token of the machine's would be signed
// with the test key. With the keys in the environment, no profile or shared file is read.
func setAWSKeys(t *testing.T, keyID, secret string) {
	t.Helper()
	for _, name := range []string{"AWS_BEARER_TOKEN_BEDROCK", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"} {
		t.Setenv(name, "")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_REGION", "eu-west-3")
}

// seenHeader gives the header `name` of each request the test server counted under key
// (GET /seen/KEY), "" where a request had none.
func seenHeader(t *testing.T, key, name string) []string {
	t.Helper()
	resp, err := http.Get(baseURL + "/seen/" + key)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var seen struct {
		Requests []struct{ Headers [][2]string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, r := range seen.Requests {
		value := ""
		for _, h := range r.Headers {
			if h[0] == name {
				value = h[1]
			}
		}
		values = append(values, value)
	}
	return values
}

func TestBedrockToolRoundTripSignedWithKeysFromTheEnvironment(t *testing.T) {
	setAWSKeys(t, bedrockKeyID, bedrockSecret)
	c, err := NewClient(Options{NoProxy: true, MaxRetries: ptr(0)}) // reads the environment now
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := Request{Messages: []Message{{Role: "user", Content: "What time is it in Paris?"}},
		Options: Options{Provider: "bedrock", Model: "amazon.nova-lite-v1:0", Stream: true, BaseURL: baseURL + "/fault/key=go-sigv4"}}
	req.Tools = []Tool{{Type: "function", Function: FunctionTool{Name: "get_time", Description: "The time",
		Parameters: map[string]any{"type": "object", "properties": map[string]any{"tz": map[string]any{"type": "string"}}}}}}
	first, err := c.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.FinishReason != "tool_calls" || len(first.ToolCalls) != 1 {
		t.Fatalf("first turn %+v", first)
	}
	call := first.ToolCalls[0]
	if call.ID != "tooluse_aichatTest0" || call.Function.Name != "get_time" || call.Function.Arguments != `{"tz":"What time is it in Paris?"}` {
		t.Errorf("tool call %+v", call)
	}
	if len(first.Message.ToolCalls) != 1 || first.Message.ToolCalls[0] != call || first.Message.Role != "assistant" {
		t.Errorf("message %+v", first.Message)
	}
	if first.Usage == nil || *first.Usage != (Usage{11, 12, 23, 3, -1}) {
		t.Errorf("usage %+v", first.Usage)
	}

	req.Messages = append(req.Messages, first.Message, Message{Role: "tool", ToolCallID: "tooluse_aichatTest0", Content: "10:00"})
	second, err := c.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if second.Text != "The tool returned: 10:00" || second.FinishReason != "stop" {
		t.Errorf("second turn %+v", second)
	}

	// Both requests were signed with the environment's key, for its region.
	auths := seenHeader(t, "go-sigv4", "authorization")
	if len(auths) != 2 {
		t.Fatalf("requests seen: %q", auths)
	}
	for _, auth := range auths {
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+bedrockKeyID+"/") || !strings.Contains(auth, "/eu-west-3/bedrock/aws4_request") {
			t.Errorf("authorization %q", auth)
		}
	}

	// A client made with a wrong secret in the environment signs with it: the server refuses
	// the signature, and the error names AWS's error type but not the secret.
	const wrong = "not/the/right/SECRET+9"
	setAWSKeys(t, bedrockKeyID, wrong)
	bad, err := NewClient(Options{NoProxy: true, MaxRetries: ptr(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, err = bad.Run(context.Background(), req)
	var e *Error
	if !errors.Is(err, ErrHTTPStatus) || !errors.As(err, &e) || e.HTTPStatus != 403 ||
		!strings.Contains(e.Message, "InvalidSignatureException") || strings.Contains(err.Error(), wrong) {
		t.Errorf("wrong secret: %v", err)
	}
	// The first client keeps the keys it read when it was made.
	if again, err := c.Run(context.Background(), req); err != nil || again.Text != "The tool returned: 10:00" {
		t.Errorf("first client after the environment changed: %+v %v", again, err)
	}
}

func TestNoProxyTurnsTheEnvironmentsProxyOff(t *testing.T) {
	// A proxy nobody listens on: a client that uses the environment fails to connect.
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("http_proxy", "http://127.0.0.1:1")
	viaEnv, err := NewClient(Options{MaxRetries: ptr(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer viaEnv.Close()
	off, err := NewClient(Options{NoProxy: true, MaxRetries: ptr(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if _, err := viaEnv.Complete(context.Background(), Request{Messages: hi, Options: Options{BaseURL: baseURL}}); !errors.Is(err, ErrConnect) {
		t.Errorf("through the environment's proxy: %v", err)
	}
	if text, err := off.Complete(context.Background(), Request{Messages: hi, Options: Options{BaseURL: baseURL}}); err != nil || text != "You said: Hi" {
		t.Errorf("proxies off: %q %v", text, err)
	}
	js, _ := Options{NoProxy: true, Proxy: "http://p:1"}.json()
	if !strings.Contains(string(js), `"proxy":""`) {
		t.Errorf("NoProxy wins: %s", js)
	}
}

func TestCodesAreTheHeadersAndNamedByTheLibrary(t *testing.T) {
	if CodeTimeout.String() != "AICHAT_ERROR_TIMEOUT" || Code(99).String() != "AICHAT_UNKNOWN" || CodeInternal != 11 {
		t.Errorf("%v %v %d", CodeTimeout, Code(99), CodeInternal)
	}
}

func TestRunGivesEveryChoiceAsTheLibraryAssembledIt(t *testing.T) {
	c := newClient(t)
	req := withTools(openai("reasoning,parallel-tools", hi))
	req.N = 2
	r, err := c.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Choices) != 2 || r.Usage == nil || *r.Usage != (Usage{9, 12, 21, 3, 4}) {
		t.Fatalf("result %+v", r)
	}
	for i, ch := range r.Choices {
		if ch.Index != i || ch.FinishReason != "tool_calls" || ch.FinishReasonRaw != "tool_calls" || len(ch.ToolCalls) != 2 {
			t.Errorf("choice %d: %+v", i, ch)
		}
		if ch.Reasoning != "The user wrote something; I will quote it back." || ch.Message.ReasoningContent != ch.Reasoning {
			t.Errorf("choice %d reasoning %q", i, ch.Reasoning)
		}
		if len(ch.Message.ToolCalls) != 2 || ch.Message.ToolCalls[1] != ch.ToolCalls[1] {
			t.Errorf("choice %d message %+v", i, ch.Message)
		}
	}
	if r.FinishReason != "tool_calls" || len(r.ToolCalls) != 2 || r.ToolCalls[0].Function.Name != "get_weather" {
		t.Errorf("choice 0's fields %+v", r)
	}

	// Asked for in Events, the result is the last event, and Run's translation of it.
	var last Event
	req.Result = true
	for e, err := range c.Events(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		last = e
	}
	again, err := resultFromJSON(last.Text)
	if last.Kind != EventResult || err != nil || len(again.Choices) != 2 || last.Usage == nil {
		t.Errorf("last event %+v: %v", last, err)
	}

	plain, err := c.Run(context.Background(), Request{Messages: hi, Options: Options{Provider: "openai",
		BaseURL: baseURL + "/v1", Stream: true, IncludeUsage: ptr(false), MaxRetries: ptr(0)}})
	if err != nil || plain.Usage != nil || len(plain.Choices) != 1 || plain.Text != "You said: Hi" || len(plain.ToolCalls) != 0 {
		t.Errorf("no usage: %+v %v", plain, err)
	}
}

// A failure decoded in the same pass as the last events must still wake the iterator: before
// the library kept the descriptor readable for it, this loop hung within a few hundred rounds.
func TestAFailureAfterTheLastEventsIsNeverWaitedForInVain(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 300; i++ {
			var last error
			// A new client each round: a new connection, whose timing hit the lost wake-up.
			for _, err := range newClient(t).Events(context.Background(), openai("error-event", hi)) {
				last = err
			}
			if !errors.Is(last, ErrServer) {
				done <- fmt.Errorf("round %d: error %v", i, last)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("an iterator waited for a descriptor that never turned readable")
	}
}

// A Result's Message, sent back as it is, keeps what the next turn needs: Gemini's thought
// signature on each call (Gemini 3 answers 400 without it) and Bedrock's signed reasoning block
// (Bedrock answers 400 without its signature). The test server refuses both the same way.
func TestMessagesSentBackKeepTheirSignatures(t *testing.T) {
	c := newClient(t)
	ask := []Message{{Role: "user", Content: "What time is it?"}}
	for _, p := range []struct{ provider, path string }{{"gemini", "/fault/reasoning/v1beta"}, {"bedrock", "/fault/reasoning"}} {
		req := withTools(Request{Messages: ask, Options: Options{Provider: p.provider, Model: "m", Stream: true,
			APIKey: "test-key", BaseURL: baseURL + p.path, MaxRetries: ptr(0)}})
		first, err := c.Run(context.Background(), req)
		if err != nil {
			t.Fatalf("%s: %v", p.provider, err)
		}
		if len(first.ToolCalls) == 0 {
			t.Fatalf("%s: no tool call: %+v", p.provider, first)
		}
		m := first.Message
		signed := m.ReasoningSignature != "" || len(m.ReasoningItems) > 0 ||
			(m.ToolCalls[0].ExtraContent != nil && m.ToolCalls[0].ExtraContent.Google != nil)
		if !signed {
			t.Errorf("%s: the message lost its signatures: %+v", p.provider, m)
		}
		req.Messages = append(append([]Message{}, ask...), m, Message{Role: "tool", ToolCallID: m.ToolCalls[0].ID, Content: "10:00"})
		second, err := c.Run(context.Background(), req)
		if err != nil {
			t.Fatalf("%s: sending the message back: %v", p.provider, err)
		}
		if !strings.HasPrefix(second.Text, "The tool returned: 10:00") {
			t.Errorf("%s: %q", p.provider, second.Text)
		}
	}
}
