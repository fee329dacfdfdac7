package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/exporters/app"
)

// buildExporter compiles the binary once per test that needs it.
func buildExporter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mine-exporter")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestCheckConfig(t *testing.T) {
	bin := buildExporter(t)
	dir := t.TempDir()
	registry, err := filepath.Abs("../../../deploy/local/mines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	brokenRegistry := write("broken-mines.yaml", "mines:\n  - code: \"12\"\n")

	cases := []struct {
		name     string
		config   string
		wantExit int
		wantOut  string
	}{
		{"valid", "registry: " + registry + "\n", 0, "config is valid"},
		{"unknown key", "registry: " + registry + "\nlisten_adress: :1\n", 1, "field listen_adress not found"},
		{"broken registry", "registry: " + brokenRegistry + "\n", 1, "line 2: mine \\\"12\\\": code must be 12 digits"},
		{"missing registry", "registry: /nonexistent/mines.yaml\n", 1, "cannot read mine registry"},
		{"bad push url", "victoriametrics:\n  push_url: ftp://x\n", 1, "must be an http or https URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := write(c.name+".yml", c.config)
			out, err := exec.Command(bin, "--check-config", "--config", cfg).CombinedOutput()
			code := 0
			if exitErr, ok := err.(*exec.ExitError); ok {
				code = exitErr.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.wantExit {
				t.Errorf("exit code %d, want %d; output:\n%s", code, c.wantExit, out)
			}
			if !strings.Contains(string(out), c.wantOut) {
				t.Errorf("output does not contain %q:\n%s", c.wantOut, out)
			}
		})
	}
}

func TestRoutesServeRegistryAndReload(t *testing.T) {
	dir := t.TempDir()
	registryPath := filepath.Join(dir, "mines.yaml")
	original, err := os.ReadFile("../../../deploy/local/mines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(registryPath, original, 0o644); err != nil {
		t.Fatal(err)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := flags{registryFile: registryPath, listenAddress: "127.0.0.1:0"}
	cfg, err := loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	gen, sources, err := app.Build(cfg, app.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{logger: logger, flags: f}
	s.swap(gen, sources)
	t.Cleanup(func() { s.current().Stop() })
	srv := httptest.NewServer(s.routes())
	defer srv.Close()

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	post := func(path string) (int, string) {
		resp, err := http.Post(srv.URL+path, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `mine_status{mine_id="320382000202",status="ordered_shutdown"} 1`) {
		t.Fatalf("/metrics: %d, missing mine_status of 320382000202:\n%.2000s", code, body)
	}
	if code, _ := get("/-/healthy"); code != 200 {
		t.Errorf("/-/healthy: %d", code)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "/metrics") {
		t.Errorf("landing page: %d %q", code, body)
	}
	if code, _ := get("/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}

	// A reload picks up a changed registry.
	changed := strings.Replace(string(original), "status: ordered_shutdown", "status: producing", 1)
	if err := os.WriteFile(registryPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := post("/-/reload"); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, `mine_status{mine_id="320382000202",status="producing"} 1`) {
		t.Errorf("after reload, mine 320382000202 is not producing")
	}

	// A broken registry fails the reload and keeps the running one.
	if err := os.WriteFile(registryPath, []byte("mines: [{code: x}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := post("/-/reload"); code != 500 || !strings.Contains(body, "reload failed") {
		t.Errorf("reload of a broken registry: %d %s, want 500", code, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, `mine_status{mine_id="320382000202",status="producing"} 1`) {
		t.Errorf("after a failed reload the running registry is gone")
	}
}

// lockedBuffer is a log sink that concurrent reloads may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestConcurrentReloadsLeaveOneWatcher(t *testing.T) {
	dir := t.TempDir()
	registryPath := filepath.Join(dir, "mines.yaml")
	original, err := os.ReadFile("../../../deploy/local/mines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(registryPath, original, 0o644); err != nil {
		t.Fatal(err)
	}

	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	f := flags{registryFile: registryPath, nationalInbox: filepath.Join(dir, "inbox"), listenAddress: "127.0.0.1:0"}
	cfg, err := loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	gen, sources, err := app.Build(cfg, app.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{logger: logger, flags: f}
	s.swap(gen, sources)
	t.Cleanup(func() { s.current().Stop() })
	srv := httptest.NewServer(s.routes())
	defer srv.Close()

	post := func() int {
		resp, err := http.Post(srv.URL+"/-/reload", "text/plain", nil)
		if err != nil {
			t.Error(err)
			return 0
		}
		defer resp.Body.Close()
		return resp.StatusCode
	}

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := post(); code != http.StatusOK {
				t.Errorf("concurrent reload: status %d, want 200", code)
			}
		}()
	}
	wg.Wait()

	// The initial generation and each reload start one watcher, which logs
	// from its own goroutine. A replaced generation logs its watcher's stop
	// before its reload returns, so only the current watcher may run.
	const generations = 21
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), "national inbox watcher started") < generations && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	started := strings.Count(logs.String(), "national inbox watcher started")
	stopped := strings.Count(logs.String(), "national inbox watcher stopped")
	if started != generations {
		t.Errorf("%d national watchers started, want %d", started, generations)
	}
	if stopped != generations-1 {
		t.Errorf("%d national watchers stopped, want %d", stopped, generations-1)
	}
	if strings.Contains(logs.String(), "source stopped") {
		t.Errorf("a source failed during the reloads:\n%s", logs.String())
	}

	// A failed reload through HTTP is logged, as one through SIGHUP is.
	if err := os.WriteFile(registryPath, []byte("mines: [{code: x}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := post(); code != http.StatusInternalServerError {
		t.Errorf("reload of a broken registry: status %d, want 500", code)
	}
	if !strings.Contains(logs.String(), "reload failed, keeping the running config") {
		t.Errorf("failed reload not logged:\n%s", logs.String())
	}
}
