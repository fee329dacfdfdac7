package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
