// The README's Go example (example `go`) as the body of main.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aichat-dev/aichat-go"
)

func main() {
	@README@
	fmt.Println()
}
