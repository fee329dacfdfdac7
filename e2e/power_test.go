//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPowerSecretOperation runs the local scenario: mine 320382000202 is
// under an ordered shutdown and its simulated hoist and belt carry
// production load (secret_night_work), mine 320382000101 produces with the
// same load. The power evidence needs 10 minutes of scraped data, so the
// test takes about 12 minutes.
func TestPowerSecretOperation(t *testing.T) {
	t.Parallel()
	s := SharedStack(t)
	deadline := s.Ready.Add(15 * time.Minute)

	// The terminals are read and their machines run.
	waitForPowerSeries(t, s, `mine_machine_running{mine_id="320382000202",machine="main_hoist"} == 1`, deadline)
	waitForPowerSeries(t, s, `mine_machine_running{mine_id="320382000202",machine="main_belt"} == 1`, deadline)

	// After 10 minutes of data, both mines show the power evidence.
	for _, mine := range []string{"320382000202", "320382000101"} {
		for _, evidence := range []string{"power_hoist_running", "power_belt_running"} {
			waitForPowerSeries(t, s, fmt.Sprintf(`mine:production_evidence:bool{mine_id=%q,evidence=%q} == 1`,
				mine, evidence), deadline)
		}
	}

	// Alertmanager delivers secret_operation for the mine under shutdown.
	if a, ok := s.WaitForAlert(t, map[string]string{"violation": "secret_operation",
		"mine_id": "320382000202"}, max(time.Until(deadline), time.Second)); ok {
		t.Logf("secret_operation delivered to %s, labels %v", a.Path, a.Labels)
	}

	// vmalert's current description of the alert names the power evidence.
	waitForVMAlertDescription(t, s, "320382000202", "power_hoist_running", deadline)

	// The producing mine has the same evidence but no alert: give vmalert
	// and Alertmanager two more evaluation rounds to deliver a wrong one.
	time.Sleep(45 * time.Second)
	for _, a := range s.Alerts(t) {
		if a.Labels["violation"] == "secret_operation" && a.Labels["mine_id"] == "320382000101" {
			t.Errorf("secret_operation delivered for the producing mine 320382000101: %v", a.Labels)
		}
	}
}

// waitForPowerSeries waits until query returns at least one series.
func waitForPowerSeries(t *testing.T, s *Stack, query string, deadline time.Time) {
	t.Helper()
	for len(s.Query(t, query)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("query %s returned nothing by the deadline", query)
		}
		time.Sleep(5 * time.Second)
	}
}

// waitForVMAlertDescription waits until vmalert's active secret_operation
// alert of mine has a description that contains evidence.
func waitForVMAlertDescription(t *testing.T, s *Stack, mine, evidence string, deadline time.Time) {
	t.Helper()
	var last string
	for {
		var resp struct {
			Data struct {
				Alerts []struct {
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"alerts"`
			} `json:"data"`
		}
		if err := getJSON(s.VMAlert+"/api/v1/alerts", &resp); err != nil {
			t.Fatalf("reading vmalert alerts: %v", err)
		}
		for _, a := range resp.Data.Alerts {
			if a.Labels["alertname"] == "secret_operation" && a.Labels["mine_id"] == mine {
				last = a.Annotations["description"]
				if strings.Contains(last, evidence) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("secret_operation of mine %s does not list %s by the deadline; last description: %q",
				mine, evidence, last)
		}
		time.Sleep(5 * time.Second)
	}
}
