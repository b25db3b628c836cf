package aichat

/*
#include "aichat.h"
*/
import "C"

import (
	"context"
	"encoding/json"
)

// EventKind says what an Event carries. The values are the C library's (AichatEventKind); a
// kind this package does not name may come from a newer library: skip it.
type EventKind int

const (
	EventResponse      EventKind = C.AICHAT_EVENT_RESPONSE       // ID: response id, Name: model, Text: request id
	EventText          EventKind = C.AICHAT_EVENT_TEXT           // Text: a piece of the content
	EventReasoning     EventKind = C.AICHAT_EVENT_REASONING      // Text: a piece of the reasoning
	EventToolCall      EventKind = C.AICHAT_EVENT_TOOL_CALL      // Index, ID, Name: a tool call starts
	EventToolArguments EventKind = C.AICHAT_EVENT_TOOL_ARGUMENTS // Index, Text: a piece of its JSON arguments
	EventRefusal       EventKind = C.AICHAT_EVENT_REFUSAL        // Text: a piece of a refusal
	EventFinish        EventKind = C.AICHAT_EVENT_FINISH         // Text: normalized reason, Name: as sent
	EventUsage         EventKind = C.AICHAT_EVENT_USAGE          // Usage
	EventMessage       EventKind = C.AICHAT_EVENT_MESSAGE        // Text: the assistant message as JSON
	EventResult        EventKind = C.AICHAT_EVENT_RESULT         // with Options.Result, last: Text: the whole answer as JSON, Usage
)

// Usage holds token counts; -1 where the server did not say.
type Usage struct {
	PromptTokens, CompletionTokens, TotalTokens, CachedTokens, ReasoningTokens int64
}

// Event is one piece of an answer (see the C header's AichatEvent for each kind's fields).
type Event struct {
	Kind   EventKind
	Choice int // 0 unless the request set N > 1
	Index  int // EventToolCall, EventToolArguments: the call's position in the message's ToolCalls
	Text   string
	ID     string
	Name   string
	Usage  *Usage // EventUsage, EventResult only
}

func eventFromC(e *C.AichatEvent) Event {
	ev := Event{
		Kind:   EventKind(e.kind),
		Choice: int(e.choice),
		Index:  int(e.index),
		Text:   C.GoStringN(e.text, C.int(e.text_len)),
		ID:     C.GoString(e.id),
		Name:   C.GoString(e.name),
	}
	if u := e.usage; u != nil {
		ev.Usage = &Usage{int64(u.prompt_tokens), int64(u.completion_tokens), int64(u.total_tokens),
			int64(u.cached_tokens), int64(u.reasoning_tokens)}
	}
	return ev
}

// Result is the whole answer, as the library assembles it. Its fields outside Choices are
// choice 0's.
type Result struct {
	Text, Reasoning, Refusal string
	ToolCalls                []ToolCall
	// FinishReason is "stop", "length", "tool_calls", "content_filter" or the server's word;
	// "" when the server gave none.
	FinishReason                 string
	Usage                        *Usage // nil when the server reported none
	ResponseID, Model, RequestID string
	// Message is the assistant message: append it to Messages for the next turn.
	Message Message
	// Choices holds every choice in order: more than one when the request set N.
	Choices []Choice
}

// Choice is one choice of a Result.
type Choice struct {
	Index                    int
	Text, Reasoning, Refusal string
	ToolCalls                []ToolCall
	// FinishReason as in Result; FinishReasonRaw is the word as the server wrote it.
	FinishReason, FinishReasonRaw string
	Message                       Message
}

// Run runs one completion and returns the whole answer: the request is sent with Result set,
// and the library's EventResult is translated; no other event is looked at.
func (c *Client) Run(ctx context.Context, req Request) (*Result, error) {
	req.Result = true
	var r *Result
	for e, err := range c.Events(ctx, req) {
		if err != nil {
			return nil, err
		}
		if e.Kind == EventResult {
			if r, err = resultFromJSON(e.Text); err != nil {
				return nil, err
			}
		}
	}
	if r == nil {
		return nil, &Error{Code: CodeInternal, Message: "the answer ended without its result event"}
	}
	return r, nil
}

// resultJSON is EventResult's JSON (the README's "Events: the whole answer").
type resultJSON struct {
	ID        string `json:"id"`
	Model     string `json:"model"`
	RequestID string `json:"request_id"`
	Choices   []struct {
		Index           int        `json:"index"`
		Text            string     `json:"text"`
		Reasoning       string     `json:"reasoning"`
		Refusal         string     `json:"refusal"`
		ToolCalls       []ToolCall `json:"tool_calls"`
		FinishReason    *string    `json:"finish_reason"`
		FinishReasonRaw *string    `json:"finish_reason_raw"`
		Message         Message    `json:"message"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     *int64 `json:"prompt_tokens"`
		CompletionTokens *int64 `json:"completion_tokens"`
		TotalTokens      *int64 `json:"total_tokens"`
		CachedTokens     *int64 `json:"cached_tokens"`
		ReasoningTokens  *int64 `json:"reasoning_tokens"`
	} `json:"usage"`
}

func resultFromJSON(text string) (*Result, error) {
	var w resultJSON
	if err := json.Unmarshal([]byte(text), &w); err != nil {
		return nil, &Error{Code: CodeInternal, Message: "the library's result is not JSON: " + err.Error()}
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	count := func(n *int64) int64 {
		if n == nil {
			return -1
		}
		return *n
	}
	r := &Result{ResponseID: w.ID, Model: w.Model, RequestID: w.RequestID}
	if u := w.Usage; u != nil {
		r.Usage = &Usage{count(u.PromptTokens), count(u.CompletionTokens), count(u.TotalTokens),
			count(u.CachedTokens), count(u.ReasoningTokens)}
	}
	for _, c := range w.Choices {
		r.Choices = append(r.Choices, Choice{Index: c.Index, Text: c.Text, Reasoning: c.Reasoning, Refusal: c.Refusal,
			ToolCalls: c.ToolCalls, FinishReason: str(c.FinishReason), FinishReasonRaw: str(c.FinishReasonRaw),
			Message: c.Message})
	}
	if len(r.Choices) > 0 {
		first := r.Choices[0]
		r.Text, r.Reasoning, r.Refusal, r.ToolCalls = first.Text, first.Reasoning, first.Refusal, first.ToolCalls
		r.FinishReason, r.Message = first.FinishReason, first.Message
	}
	return r, nil
}
