// A program outside the repository that uses the Go binding against an installed library
// (make install + pkg-config). `make test` builds it in a throw-away module and runs it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aichat-dev/aichat-go"
)

func main() {
	req := aichat.Request{
		Messages: []aichat.Message{{Role: "user", Content: "from an installed library"}},
		Options:  aichat.Options{Provider: "openai", BaseURL: os.Args[1] + "/v1", Stream: true},
	}
	text, err := aichat.Complete(context.Background(), req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if text != "You said: from an installed library" {
		fmt.Fprintf(os.Stderr, "unexpected answer %q\n", text)
		os.Exit(1)
	}
	result, err := aichat.Run(context.Background(), req)
	if err != nil || result.Text != text || result.FinishReason != "stop" || result.Usage == nil {
		fmt.Fprintf(os.Stderr, "unexpected result %+v (%v)\n", result, err)
		os.Exit(1)
	}
	fmt.Println("go consumer: ok:", text)
}
