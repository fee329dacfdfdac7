package national

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/exporters/health"
	"github.com/minewatch/minewatch/exporters/registry"
	"github.com/minewatch/minewatch/exporters/vmimport"
	"github.com/minewatch/minewatch/internal/testenv"
)

const (
	mine1 = "320382000101"
	mine2 = "320382000202"
)

// testNow is the fake clock: shortly after the sample files' times.
var testNow = time.Date(2026, 11, 20, 22, 20, 0, 0, CST)

const testRegistry = `
mines:
  - code: "320382000101"
    name: 示例一号煤矿
    kind: coal
    city: 徐州市
    county: 邳州市
    status: producing
    approved_underground_persons: 120
    area_limits: {"3203820001010005": 10}
  - code: "320382000202"
    name: 示例二号煤矿
    kind: coal
    city: 徐州市
    county: 邳州市
    status: ordered_shutdown
    approved_underground_persons: 80
`

// harness is a Source on a temporary inbox with a fake clock.
type harness struct {
	t       *testing.T
	src     *Source
	metrics *prometheus.Registry
	now     time.Time
	inbox   string
}

func newHarness(t *testing.T, mutate func(*Config), vm *vmimport.Client) *harness {
	t.Helper()
	inbox := t.TempDir()
	return newHarnessAt(t, inbox, mutate, vm)
}

func newHarnessAt(t *testing.T, inbox string, mutate func(*Config), vm *vmimport.Client) *harness {
	t.Helper()
	cfg := Config{Inbox: inbox}
	cfg.SetDefaults()
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("invalid test config: %v", err)
	}
	reg, err := registry.Parse([]byte(testRegistry))
	if err != nil {
		t.Fatalf("test registry: %v", err)
	}
	h := &harness{t: t, metrics: prometheus.NewRegistry(), now: testNow, inbox: inbox}
	src, err := New(cfg, Deps{
		Registry: registry.NewHolder(reg),
		Health:   health.New(h.metrics),
		Metrics:  h.metrics,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      func() time.Time { return h.now },
		VM:       vm,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := src.open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	h.src = src
	return h
}

// put writes a file into a mine folder of the inbox.
func (h *harness) put(folder, name string, data []byte) string {
	h.t.Helper()
	dir := filepath.Join(h.inbox, folder)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		h.t.Fatal(err)
	}
	return path
}

// pass runs one pass over the inbox and returns the retry wait.
func (h *harness) pass() time.Duration {
	h.t.Helper()
	return h.src.pass(context.Background())
}

func (h *harness) files(mineID, typ, outcome string) float64 {
	return testutil.ToFloat64(h.src.counters.files.WithLabelValues(mineID, typ, outcome))
}

func (h *harness) records(mineID, typ, outcome string) float64 {
	return testutil.ToFloat64(h.src.counters.records.WithLabelValues(mineID, typ, outcome))
}

func (h *harness) flagged(mineID, typ, flag string) float64 {
	return testutil.ToFloat64(h.src.counters.flagged.WithLabelValues(mineID, typ, flag))
}

// assertDone checks that a file left the inbox for done/<mine>/.
func (h *harness) assertDone(folder, name string) {
	h.t.Helper()
	if _, err := os.Stat(filepath.Join(h.inbox, folder, name)); err == nil {
		h.t.Errorf("%s is still in the inbox", name)
	}
	if _, err := os.Stat(filepath.Join(h.inbox, "done", folder, name)); err != nil {
		h.t.Errorf("%s is not in done/%s: %v", name, folder, err)
	}
}

// assertRejected checks that a file is in rejected/<folder>/ with a reason
// file naming reason.
func (h *harness) assertRejected(folder, name, reason string) {
	h.t.Helper()
	if _, err := os.Stat(filepath.Join(h.inbox, folder, name)); err == nil {
		h.t.Errorf("%s is still in the inbox", name)
	}
	dest := filepath.Join(h.inbox, "rejected", folder, name)
	if _, err := os.Stat(dest); err != nil {
		h.t.Errorf("%s is not in rejected/%s: %v", name, folder, err)
		return
	}
	text, err := os.ReadFile(dest + ".reason")
	if err != nil {
		h.t.Errorf("reason file of %s: %v", name, err)
		return
	}
	if !strings.Contains(string(text), "reason: "+reason+"\n") {
		h.t.Errorf("reason file of %s does not name %q:\n%s", name, reason, text)
	}
}

// assertWaiting checks that a file is still in the inbox.
func (h *harness) assertWaiting(folder, name string) {
	h.t.Helper()
	if _, err := os.Stat(filepath.Join(h.inbox, folder, name)); err != nil {
		h.t.Errorf("%s left the inbox: %v", name, err)
	}
}

// gauge returns the current value of a derived series on /metrics, and
// whether it exists.
func (h *harness) gauge(name string, labels map[string]string) (float64, bool) {
	h.t.Helper()
	families, err := h.metrics.Gather()
	if err != nil {
		h.t.Fatalf("gather: %v", err)
	}
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
	next:
		for _, m := range fam.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// sample reads a file of the sample inbox.
func sampleFile(t testing.TB, mineID, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sampleDir(), mineID, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func sampleDir() string {
	return filepath.Join(testenv.RepoRoot(), "deploy", "local", "samples", "national")
}

// copySamples copies the sample inbox into inbox.
func copySamples(t testing.TB, inbox string) int {
	t.Helper()
	n := 0
	mines, err := os.ReadDir(sampleDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mines {
		files, _ := os.ReadDir(filepath.Join(sampleDir(), m.Name()))
		if err := os.MkdirAll(filepath.Join(inbox, m.Name()), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data := sampleFile(t, m.Name(), f.Name())
			if err := os.WriteFile(filepath.Join(inbox, m.Name(), f.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}
