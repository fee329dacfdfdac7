// Package vmtest starts a real single-node VictoriaMetrics on a free
// loopback port for the dashboard tests. The repository's internal/testenv
// does the same for the root module, which this module does not import.
package vmtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// readyTimeout bounds the wait for /health. It is generous because the
// tests share a loaded 2-core machine with other test runs.
const readyTimeout = 60 * time.Second

// Server is a running VictoriaMetrics.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT.
	URL string

	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
}

func (s *Server) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.Write(b)
}

// Logs returns what VictoriaMetrics printed so far.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Binary returns the victoria-metrics binary: $VICTORIA_METRICS_BIN, else
// .tools/bin/victoria-metrics of the repository (repoRoot), else PATH.
// It fails the test when none exists, so a missing binary never passes as
// a skipped test.
func Binary(t testing.TB, repoRoot string) string {
	t.Helper()
	if p := os.Getenv("VICTORIA_METRICS_BIN"); p != "" {
		return p
	}
	p := filepath.Join(repoRoot, ".tools", "bin", "victoria-metrics")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("victoria-metrics"); err == nil {
		return p
	}
	t.Fatalf("victoria-metrics not found in $VICTORIA_METRICS_BIN, %s or PATH: run `make deps` in the repository root",
		filepath.Join(repoRoot, ".tools", "bin"))
	return ""
}

// Start runs VictoriaMetrics with its data in a temporary folder on a free
// port of 127.0.0.1 and waits until /health returns 200. It is stopped
// when the test ends, and its output is logged when the test failed.
func Start(t testing.TB, repoRoot string) *Server {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	s := &Server{URL: "http://" + addr}
	s.cmd = exec.Command(Binary(t, repoRoot),
		"-httpListenAddr="+addr,
		"-storageDataPath="+t.TempDir(),
		"-retentionPeriod=100y",
		// Queries must see samples imported a moment earlier.
		"-search.disableCache",
		"-search.latencyOffset=0s",
		"-loggerLevel=WARN",
	)
	s.cmd.Stdout = s
	s.cmd.Stderr = s
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("cannot start victoria-metrics: %v", err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		if t.Failed() {
			t.Logf("output of victoria-metrics:\n%s", s.Logs())
		}
	})

	deadline := time.Now().Add(readyTimeout)
	for {
		err := s.healthy()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-metrics did not respond on %s/health within %s: %v\n%s",
				s.URL, readyTimeout, err, s.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) healthy() error {
	resp, err := http.Get(s.URL + "/health")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health: %s", resp.Status)
	}
	return nil
}

// Import writes samples in the Prometheus text format, with timestamps in
// milliseconds, and flushes them so that queries see them at once.
func (s *Server) Import(t testing.TB, text string) {
	t.Helper()
	resp, err := http.Post(s.URL+"/api/v1/import/prometheus", "text/plain", bytes.NewBufferString(text))
	if err != nil {
		t.Fatalf("import into victoria-metrics: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("import into victoria-metrics: %s", resp.Status)
	}
	resp, err = http.Get(s.URL + "/internal/force_flush")
	if err != nil {
		t.Fatalf("flush victoria-metrics: %v", err)
	}
	resp.Body.Close()
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot find a free loopback port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
