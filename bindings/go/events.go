package aichat

/*
#include "aichat.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"strings"
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
	Usage  *Usage // EventUsage only
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

// Result is the whole answer of choice 0.
type Result struct {
	Text, Reasoning, Refusal string
	ToolCalls                []ToolCall
	// FinishReason is "stop", "length", "tool_calls", "content_filter" or the server's word.
	FinishReason                 string
	Usage                        *Usage // nil when the server reported none
	ResponseID, Model, RequestID string
	// Message is the assistant message: append it to Messages for the next turn.
	Message Message
}

// Run runs one completion and gathers the events of choice 0 into a Result.
func (c *Client) Run(ctx context.Context, req Request) (*Result, error) {
	r := &Result{}
	var text, reasoning, refusal strings.Builder
	for e, err := range c.Events(ctx, req) {
		if err != nil {
			return nil, err
		}
		if e.Choice != 0 {
			continue
		}
		switch e.Kind {
		case EventResponse:
			r.ResponseID, r.Model, r.RequestID = e.ID, e.Name, e.Text
		case EventText:
			text.WriteString(e.Text)
		case EventReasoning:
			reasoning.WriteString(e.Text)
		case EventRefusal:
			refusal.WriteString(e.Text)
		case EventFinish:
			r.FinishReason = e.Text
		case EventUsage:
			r.Usage = e.Usage
		case EventMessage:
			if err := json.Unmarshal([]byte(e.Text), &r.Message); err != nil {
				return nil, &Error{Code: CodeInternal, Message: "the library's message is not JSON: " + err.Error()}
			}
		}
	}
	r.Text, r.Reasoning, r.Refusal = text.String(), reasoning.String(), refusal.String()
	r.ToolCalls = r.Message.ToolCalls
	return r, nil
}
