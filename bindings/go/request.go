package aichat

import (
	"encoding/json"
	"time"
)

// Message is one turn of the conversation, in OpenAI's schema (every protocol takes it).
// Content is a string, nil, or a []ContentPart (or any JSON-encodable list of parts). The
// assistant message of a Result can be appended to Messages as it is.
type Message struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
	// Name optionally names the participant.
	Name string `json:"name,omitempty"`
	// ToolCalls are the calls an assistant message made.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID is the call a "tool" message answers.
	ToolCallID       string `json:"tool_call_id,omitempty"`
	ReasoningContent string `json:"reasoning_content,omitempty"`
	Refusal          string `json:"refusal,omitempty"`
}

// ContentPart is one part of a message's content: {Type: "text", Text: ...} or
// {Type: "image_url", ImageURL: &ImageURL{URL: ...}}.
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image by URL, or inline as a data: URL.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// ToolCall is one call of a function tool, as an assistant message holds it.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"` // "function"
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its arguments as JSON text.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Tool is a tool the model may call: {Type: "function", Function: FunctionTool{...}}.
type Tool struct {
	Type     string       `json:"type"`
	Function FunctionTool `json:"function"`
}

// FunctionTool describes a function; Parameters is its JSON Schema.
type FunctionTool struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Parameters  any    `json:"parameters,omitempty"`
	Strict      *bool  `json:"strict,omitempty"`
}

// Request is one completion: the conversation plus settings that override the client's.
type Request struct {
	Messages []Message
	Options
}

// Options are settings: a client's defaults, or a request's own (embedded in Request). Zero
// values mean "not set" (the client's value, else the library default); see the README's
// request schema for each field.
type Options struct {
	Model             string
	Stream            bool
	Provider          string // "aichat" (default), "openai", "anthropic" or "ollama"
	BaseURL           string
	APIKey            string
	Proxy             string // a proxy URL; "" = the environment's proxy settings (see NoProxy)
	NoProxy           bool   // no proxy at all, whatever Proxy and the environment say
	Temperature       *float64
	TopP              *float64
	PresencePenalty   *float64
	FrequencyPenalty  *float64
	MaxTokens         *int
	Headers           map[string]string
	ExtraBody         map[string]any
	ConnectTimeout    time.Duration
	IdleTimeout       time.Duration // longest silence while waiting or between reads
	Timeout           time.Duration // the whole call
	MaxRetries        *int
	MaxResponseBytes  int64
	CAFile            string // PEM certificates trusted instead of the built-in roots
	Tools             []Tool
	ToolChoice        any // "auto", "none", "required", or {"type":"function","function":{"name":...}}
	ParallelToolCalls *bool
	ResponseFormat    any // e.g. map[string]any{"type": "json_object"}
	Stop              any // a string or a []string
	Seed              *int64
	ReasoningEffort   string
	N                 int   // choices to generate; events carry each one's index
	IncludeUsage      *bool // with Stream, ask for token usage (library default: true)
	// Result ends Events with EventResult, the whole answer assembled by the library (Run
	// sets it itself).
	Result bool
}

// wire is the C library's JSON schema, the one place where each setting is named for it;
// unset fields are left out so the library's own defaults and the client's apply.
type wire struct {
	Messages          *[]Message        `json:"messages,omitempty"`
	Model             string            `json:"model,omitempty"`
	Stream            bool              `json:"stream,omitempty"`
	Provider          string            `json:"provider,omitempty"`
	BaseURL           string            `json:"base_url,omitempty"`
	APIKey            string            `json:"api_key,omitempty"`
	Proxy             *string           `json:"proxy,omitempty"`
	Temperature       *float64          `json:"temperature,omitempty"`
	TopP              *float64          `json:"top_p,omitempty"`
	PresencePenalty   *float64          `json:"presence_penalty,omitempty"`
	FrequencyPenalty  *float64          `json:"frequency_penalty,omitempty"`
	MaxTokens         *int              `json:"max_tokens,omitempty"`
	Headers           map[string]string `json:"headers,omitempty"`
	ExtraBody         map[string]any    `json:"extra_body,omitempty"`
	ConnectTimeoutMs  int64             `json:"connect_timeout_ms,omitempty"`
	IdleTimeoutMs     int64             `json:"idle_timeout_ms,omitempty"`
	TimeoutMs         int64             `json:"timeout_ms,omitempty"`
	MaxRetries        *int              `json:"max_retries,omitempty"`
	MaxResponseBytes  int64             `json:"max_response_bytes,omitempty"`
	CAFile            string            `json:"ca_file,omitempty"`
	Tools             []Tool            `json:"tools,omitempty"`
	ToolChoice        any               `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls,omitempty"`
	ResponseFormat    any               `json:"response_format,omitempty"`
	Stop              any               `json:"stop,omitempty"`
	Seed              *int64            `json:"seed,omitempty"`
	ReasoningEffort   string            `json:"reasoning_effort,omitempty"`
	N                 int               `json:"n,omitempty"`
	IncludeUsage      *bool             `json:"include_usage,omitempty"`
	Result            bool              `json:"result,omitempty"`
}

// millis rounds up, so a positive duration below 1 ms is not mistaken for "unset".
func millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func (o Options) wire() wire {
	return wire{
		Model: o.Model, Stream: o.Stream, Provider: o.Provider, BaseURL: o.BaseURL, APIKey: o.APIKey, Proxy: o.proxy(),
		Temperature: o.Temperature, TopP: o.TopP, PresencePenalty: o.PresencePenalty,
		FrequencyPenalty: o.FrequencyPenalty, MaxTokens: o.MaxTokens, Headers: o.Headers, ExtraBody: o.ExtraBody,
		ConnectTimeoutMs: millis(o.ConnectTimeout), IdleTimeoutMs: millis(o.IdleTimeout), TimeoutMs: millis(o.Timeout),
		MaxRetries: o.MaxRetries, MaxResponseBytes: o.MaxResponseBytes, CAFile: o.CAFile,
		Tools: o.Tools, ToolChoice: o.ToolChoice, ParallelToolCalls: o.ParallelToolCalls,
		ResponseFormat: o.ResponseFormat, Stop: o.Stop, Seed: o.Seed, ReasoningEffort: o.ReasoningEffort, N: o.N,
		IncludeUsage: o.IncludeUsage, Result: o.Result,
	}
}

// proxy is the library's `proxy` field: "" turns proxies off; unset uses the environment.
func (o Options) proxy() *string {
	switch {
	case o.NoProxy:
		off := ""
		return &off
	case o.Proxy != "":
		return &o.Proxy
	default:
		return nil
	}
}

func (r Request) json() ([]byte, error) {
	w := r.Options.wire()
	messages := r.Messages
	if messages == nil {
		messages = []Message{}
	}
	w.Messages = &messages
	return json.Marshal(w)
}

func (o Options) json() ([]byte, error) { return json.Marshal(o.wire()) }
