// Package testenv starts the real servers that tests run against
// (VictoriaMetrics, Mosquitto) on loopback ports and stops them when the
// test ends. `make deps` installs them; a missing binary fails the test
// with the command that installs it, so CI can never pass by skipping.
package testenv

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RepoRoot returns the repository root, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binary returns the path of a server binary: from .tools/bin in the
// repository (where `make deps` puts the go-installed servers), then
// from PATH. It fails the test when the binary is missing.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), ".tools", "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s not found in .tools/bin or PATH: run `make deps` first", name)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a server started for a test.
type Process struct {
	Cmd  *exec.Cmd
	Addr string // host:port on loopback
	Dir  string // working or data directory

	mu   sync.Mutex
	logs bytes.Buffer
}

func (p *Process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

// Logs returns what the process printed so far.
func (p *Process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// Stop kills the process and waits for it. Safe to call twice.
func (p *Process) Stop() {
	if p.Cmd.Process == nil || p.Cmd.ProcessState != nil {
		return
	}
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
}

// Start runs a server and waits until ready returns nil, for at most 30s.
// The process is stopped at the end of the test, and its output is
// printed when the test failed.
func Start(t testing.TB, name string, args []string, addr string, ready func() error) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(Binary(t, name), args...), Addr: addr}
	p.Cmd.Stdout = p
	p.Cmd.Stderr = p
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, p.Logs())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ready()
		if err == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become ready on %s within 30s: %v\n%s", name, addr, err, p.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// HTTPReady returns a readiness check that GETs url and expects 200.
func HTTPReady(url string) func() error {
	return func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// TCPReady returns a readiness check that dials addr.
func TCPReady(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// VictoriaMetrics starts a single-node VictoriaMetrics with its data in a
// temporary folder and returns it; its base URL is "http://" + Addr.
// Extra flags are appended, for example "-promscrape.config=FILE".
func VictoriaMetrics(t testing.TB, extra ...string) *Process {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	dir := t.TempDir()
	args := append([]string{
		"-httpListenAddr=" + addr,
		"-storageDataPath=" + dir,
		"-retentionPeriod=100y",
		"-search.disableCache",
		"-loggerLevel=WARN",
	}, extra...)
	p := Start(t, "victoria-metrics", args, addr, HTTPReady("http://"+addr+"/health"))
	p.Dir = dir
	return p
}

// Flush makes samples written to VictoriaMetrics visible to queries.
func Flush(t testing.TB, vm *Process) {
	t.Helper()
	resp, err := http.Get("http://" + vm.Addr + "/internal/force_flush")
	if err != nil {
		t.Fatalf("flush VictoriaMetrics: %v", err)
	}
	resp.Body.Close()
}

// Mosquitto starts a Mosquitto broker with the given extra config lines
// (listener lines included; when conf has no listener line, a plain
// listener on a free port is added). It returns the process; Addr is the
// first listener's host:port.
func Mosquitto(t testing.TB, conf string) *Process {
	t.Helper()
	dir := t.TempDir()
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	full := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n%s\n", port, conf)
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	p := Start(t, "mosquitto", []string{"-c", path}, addr, TCPReady(addr))
	p.Dir = dir
	return p
}
