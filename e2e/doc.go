// Package e2e runs the whole local stack (deploy/local/stack.sh) on free
// loopback ports and checks what Alertmanager delivers to the alert
// recorder. The tests carry the build tag e2e and need `make deps build`:
//
//	go test -tags e2e ./e2e/...
//
// Each source adds its cases in its own e2e/<source>_test.go file with
// StartStack, Stack.WaitForAlert and Stack.Query.
package e2e
