// chat streams a completion to stdout, like the C example:
//
//	go run ./examples/chat [-base-url URL] [-provider NAME] [-model NAME] [-no-stream] [MESSAGE...]
//
// Flags fall back to AICHAT_BASE_URL, AICHAT_PROVIDER and AICHAT_MODEL. Ctrl-C stops the
// request at once.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/aichat-dev/aichat-go"
)

func main() {
	baseURL := flag.String("base-url", os.Getenv("AICHAT_BASE_URL"), "server base URL")
	provider := flag.String("provider", os.Getenv("AICHAT_PROVIDER"), "aichat or openai")
	model := flag.String("model", os.Getenv("AICHAT_MODEL"), "model name")
	noStream := flag.Bool("no-stream", false, "ask for one answer instead of a stream")
	flag.Parse()
	message := strings.Join(flag.Args(), " ")
	if message == "" {
		message = "Hello! Who are you?"
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	req := aichat.Request{
		Messages: []aichat.Message{{Role: "user", Content: message}},
		Options:  aichat.Options{BaseURL: *baseURL, Provider: *provider, Model: *model, Stream: !*noStream},
	}
	for chunk, err := range aichat.Stream(ctx, req) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "\nchat:", err)
			os.Exit(1)
		}
		fmt.Print(chunk)
	}
	fmt.Println()
}
