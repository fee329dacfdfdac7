//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// TestNationalViolations feeds the sample mines' national files through
// minesim (live, 30s cadence, with the 15 minutes of backfill that
// deploy/local/minesim.args sets) and expects Alertmanager to deliver
// each violation of the samples within two minutes of the stack being up.
func TestNationalViolations(t *testing.T) {
	t.Parallel()
	s := SharedStack(t)
	deadline := s.Ready.Add(2 * time.Minute)

	cases := []struct {
		name   string
		labels map[string]string
	}{
		{"overcrowded working face", map[string]string{"violation": "overcrowding_area",
			"severity": "critical", "mine_id": "320382000101", "area": "3203820001010004"}},
		{"person in restricted area", map[string]string{"violation": "restricted_area",
			"mine_id": "320382000101"}},
		{"secret operation", map[string]string{"violation": "secret_operation",
			"mine_id": "320382000202"}},
	}
	for _, c := range cases {
		a, ok := s.WaitForAlert(t, c.labels, max(time.Until(deadline), time.Second))
		if !ok {
			continue
		}
		t.Logf("%s: delivered to %s, labels %v", c.name, a.Path, a.Labels)
		// Both sample mines are in Pizhou. The county comes from the
		// registry and picks the inspectors' route.
		if a.Labels["county"] != "邳州市" {
			t.Errorf("%s: county = %q, want 邳州市 from the registry", c.name, a.Labels["county"])
		}
	}
}
