package alertrecorder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/internal/testenv"
)

func openRecorder(t *testing.T, path string) (*Recorder, *httptest.Server) {
	t.Helper()
	rec, err := Open(path, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rec.Handler())
	t.Cleanup(func() {
		srv.Close()
		rec.Close()
	})
	return rec, srv
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func getRecords(t *testing.T, base string) []Record {
	t.Helper()
	resp, err := http.Get(base + "/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []Record
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

const notification = `{"version":"4","receiver":"county-320382","status":"firing",
 "groupLabels":{"mine_id":"320382000101"},
 "alerts":[{"status":"firing","labels":{"alertname":"RestrictedArea","mine_id":"320382000101","violation":"restricted_area"},
 "annotations":{"summary":"person in a restricted area"},"startsAt":"2026-12-04T10:00:00Z"}]}`

func TestRecorderRecordsAndServes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	rec, srv := openRecorder(t, path)

	if resp := post(t, srv.URL+"/receivers/county-320382", notification); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %s", resp.Status)
	}
	if got := getRecords(t, srv.URL); len(got) != 1 {
		t.Fatalf("GET /alerts returned %d records, want 1", len(got))
	} else {
		if got[0].Path != "/receivers/county-320382" {
			t.Errorf("path = %q", got[0].Path)
		}
		if got[0].Receiver != "county-320382" {
			t.Errorf("receiver = %q", got[0].Receiver)
		}
	}

	alerts, err := Alerts(rec.Records())
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Labels["violation"] != "restricted_area" ||
		alerts[0].Path != "/receivers/county-320382" {
		t.Errorf("alerts = %+v", alerts)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != 1 {
		t.Errorf("file has %d lines, want 1:\n%s", n, data)
	}
}

func TestRecorderRejectsBrokenJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	rec, srv := openRecorder(t, path)
	if resp := post(t, srv.URL+"/receivers/x", `{"alerts": [`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("broken JSON: %s, want 400", resp.Status)
	}
	if got := testutil.ToFloat64(rec.rejected.WithLabelValues("invalid_json")); got != 1 {
		t.Errorf("invalid_json rejections = %v, want 1", got)
	}
	if got := len(getRecords(t, srv.URL)); got != 0 {
		t.Errorf("%d records after a rejected request", got)
	}
	big := `{"x":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	if resp := post(t, srv.URL+"/receivers/x", big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %s, want 413", resp.Status)
	}
	if got := testutil.ToFloat64(rec.rejected.WithLabelValues("too_large")); got != 1 {
		t.Errorf("too_large rejections = %v, want 1", got)
	}
}

func TestRecorderKeepsHistoryOverRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	rec, srv := openRecorder(t, path)
	post(t, srv.URL+"/receivers/a", notification)
	post(t, srv.URL+"/receivers/b", notification)
	srv.Close()
	rec.Close()

	_, srv2 := openRecorder(t, path)
	got := getRecords(t, srv2.URL)
	if len(got) != 2 || got[0].Receiver != "a" || got[1].Receiver != "b" {
		t.Errorf("records after restart = %+v", got)
	}
}

func TestRecorderRejectsCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	if err := os.WriteFile(path, []byte("{\"path\":\"/a\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "alerts.jsonl:2") {
		t.Errorf("err = %v, want it to name line 2", err)
	}
}

// TestRecorderReceivesFromAlertmanager sends an alert through a real
// Alertmanager whose webhook receiver is the recorder.
func TestRecorderReceivesFromAlertmanager(t *testing.T) {
	rec, srv := openRecorder(t, filepath.Join(t.TempDir(), "alerts.jsonl"))
	am := testenv.Alertmanager(t, fmt.Sprintf(`
route:
  receiver: county
  group_by: [mine_id, violation]
  group_wait: 0s
receivers:
  - name: county
    webhook_configs:
      - url: %s/receivers/county-320382
`, srv.URL))

	alert := `[{"labels":{"alertname":"OvercrowdingArea","mine_id":"320382000101","violation":"overcrowding_area",
		"severity":"critical","area":"3203820001010004"},"annotations":{"summary":"too many people"}}]`
	resp, err := http.Post("http://"+am.Addr+"/api/v2/alerts", "application/json", strings.NewReader(alert))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting to Alertmanager: %s %s", resp.Status, body)
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		alerts, err := Alerts(rec.Records())
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) > 0 {
			a := alerts[0]
			if a.Labels["violation"] != "overcrowding_area" || a.Labels["area"] != "3203820001010004" {
				t.Errorf("recorded alert labels = %v", a.Labels)
			}
			if a.Status != "firing" {
				t.Errorf("status = %q, want firing", a.Status)
			}
			if a.Path != "/receivers/county-320382" {
				t.Errorf("path = %q", a.Path)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager delivered nothing within 60s; its output:\n%s", am.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
