//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"testing"
)

// TestMain stops the shared stack after every test ran. A failed run
// keeps the stack's state folder for inspection.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := stopShared(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
