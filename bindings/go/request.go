package aichat

import (
	"encoding/json"
	"time"
)

// Message is one turn of the conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is one completion: the conversation plus settings that override the client's.
// Zero values mean "not set" (the client's value, else the library default); see the README's
// request schema for each field.
type Request struct {
	Messages         []Message
	Model            string
	Stream           bool
	Provider         string // "aichat" (default) or "openai"
	BaseURL          string
	APIKey           string
	Proxy            string // "" = the environment's proxy settings
	Temperature      *float64
	TopP             *float64
	PresencePenalty  *float64
	FrequencyPenalty *float64
	MaxTokens        *int
	Headers          map[string]string
	ExtraBody        map[string]any
	ConnectTimeout   time.Duration
	IdleTimeout      time.Duration // longest silence while waiting or between reads
	Timeout          time.Duration // the whole call
	MaxRetries       *int
	MaxResponseBytes int64
	CAFile           string // PEM certificates trusted instead of the built-in roots
}

// Options are a client's defaults: the fields of Request without Messages.
type Options struct {
	Model            string
	Stream           bool
	Provider         string
	BaseURL          string
	APIKey           string
	Proxy            string
	Temperature      *float64
	TopP             *float64
	PresencePenalty  *float64
	FrequencyPenalty *float64
	MaxTokens        *int
	Headers          map[string]string
	ExtraBody        map[string]any
	ConnectTimeout   time.Duration
	IdleTimeout      time.Duration
	Timeout          time.Duration
	MaxRetries       *int
	MaxResponseBytes int64
	CAFile           string // PEM certificates trusted instead of the built-in roots
}

// wire is the C library's JSON schema; unset fields are left out so the library's own
// defaults and the client's apply.
type wire struct {
	Messages         *[]Message        `json:"messages,omitempty"`
	Model            string            `json:"model,omitempty"`
	Stream           bool              `json:"stream,omitempty"`
	Provider         string            `json:"provider,omitempty"`
	BaseURL          string            `json:"base_url,omitempty"`
	APIKey           string            `json:"api_key,omitempty"`
	Proxy            string            `json:"proxy,omitempty"`
	Temperature      *float64          `json:"temperature,omitempty"`
	TopP             *float64          `json:"top_p,omitempty"`
	PresencePenalty  *float64          `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64          `json:"frequency_penalty,omitempty"`
	MaxTokens        *int              `json:"max_tokens,omitempty"`
	Headers          map[string]string `json:"headers,omitempty"`
	ExtraBody        map[string]any    `json:"extra_body,omitempty"`
	ConnectTimeoutMs int64             `json:"connect_timeout_ms,omitempty"`
	IdleTimeoutMs    int64             `json:"idle_timeout_ms,omitempty"`
	TimeoutMs        int64             `json:"timeout_ms,omitempty"`
	MaxRetries       *int              `json:"max_retries,omitempty"`
	MaxResponseBytes int64             `json:"max_response_bytes,omitempty"`
	CAFile           string            `json:"ca_file,omitempty"`
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
		Model: o.Model, Stream: o.Stream, Provider: o.Provider, BaseURL: o.BaseURL, APIKey: o.APIKey, Proxy: o.Proxy,
		Temperature: o.Temperature, TopP: o.TopP, PresencePenalty: o.PresencePenalty,
		FrequencyPenalty: o.FrequencyPenalty, MaxTokens: o.MaxTokens, Headers: o.Headers, ExtraBody: o.ExtraBody,
		ConnectTimeoutMs: millis(o.ConnectTimeout), IdleTimeoutMs: millis(o.IdleTimeout), TimeoutMs: millis(o.Timeout),
		MaxRetries: o.MaxRetries, MaxResponseBytes: o.MaxResponseBytes, CAFile: o.CAFile,
	}
}

func (r Request) json() ([]byte, error) {
	w := Options{
		Model: r.Model, Stream: r.Stream, Provider: r.Provider, BaseURL: r.BaseURL, APIKey: r.APIKey, Proxy: r.Proxy,
		Temperature: r.Temperature, TopP: r.TopP, PresencePenalty: r.PresencePenalty,
		FrequencyPenalty: r.FrequencyPenalty, MaxTokens: r.MaxTokens, Headers: r.Headers, ExtraBody: r.ExtraBody,
		ConnectTimeout: r.ConnectTimeout, IdleTimeout: r.IdleTimeout, Timeout: r.Timeout, MaxRetries: r.MaxRetries,
		MaxResponseBytes: r.MaxResponseBytes, CAFile: r.CAFile,
	}.wire()
	messages := r.Messages
	if messages == nil {
		messages = []Message{}
	}
	w.Messages = &messages
	return json.Marshal(w)
}

func (o Options) json() ([]byte, error) { return json.Marshal(o.wire()) }
