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
	// ReasoningSignature vouches for the reasoning (Anthropic, Gemini, Bedrock): kept so that
	// the message can be sent back.
	ReasoningSignature string `json:"reasoning_signature,omitempty"`
	// ReasoningItems are reasoning items to send back as received (Responses' encrypted
	// reasoning, Bedrock's reasoning blocks).
	ReasoningItems []json.RawMessage `json:"reasoning_items,omitempty"`
	Refusal        string            `json:"refusal,omitempty"`
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
	// ExtraContent carries Gemini's thought signature for the call, which Gemini 3 wants back.
	ExtraContent *ExtraContent `json:"extra_content,omitempty"`
}

// ExtraContent is a tool call's vendor data, as Gemini's OpenAI-compatible API spells it.
type ExtraContent struct {
	Google *GoogleExtra `json:"google,omitempty"`
}

// GoogleExtra holds the signature Gemini put on a call.
type GoogleExtra struct {
	ThoughtSignature string `json:"thought_signature,omitempty"`
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
// Options (generated from the library's settings table) is in options_gen.go.
type Request struct {
	Messages []Message
	Options
}

// millis rounds up, so a positive duration below 1 ms is not mistaken for "unset".
func millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
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
