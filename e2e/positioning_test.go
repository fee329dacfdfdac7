//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// TestPositioningViolations runs the simulated UWB tags of the local
// scenario through Mosquitto and mine-exporter, and expects vmalert to
// raise, and Alertmanager to deliver, the alerts of mine 320382000101's
// timeline: a vehicle closing on a person and a person in the restricted
// goaf. The UWB series must be in VictoriaMetrics, so the alerts rest on
// MQTT data and not only on the national files.
func TestPositioningViolations(t *testing.T) {
	t.Parallel()
	s := SharedStack(t)
	deadline := s.Ready.Add(3 * time.Minute)

	waitForQuery(t, s, `mine_vehicle_person_distance_meters{mine_id="320382000101",vehicle="V0001"} < 5`, deadline)
	waitForQuery(t, s, `mine_area_persons{mine_id="320382000101",area="3203820001010012",job="mine-exporter"} > 0`, deadline)
	waitForQuery(t, s, `mine_person_position_meters{mine_id="320382000101",source="uwb",axis="x"}`, deadline)

	cases := []struct {
		name   string
		labels map[string]string
	}{
		{"vehicle near person", map[string]string{"violation": "vehicle_near_person",
			"mine_id": "320382000101", "vehicle": "V0001", "severity": "critical"}},
		{"person in restricted area", map[string]string{"violation": "restricted_area",
			"mine_id": "320382000101", "area": "3203820001010012"}},
	}
	for _, c := range cases {
		a, ok := s.WaitForAlert(t, c.labels, max(time.Until(deadline), time.Second))
		if ok {
			t.Logf("%s: delivered to %s, labels %v", c.name, a.Path, a.Labels)
		}
	}
}

// waitForQuery polls VictoriaMetrics until query returns a series.
func waitForQuery(t *testing.T, s *Stack, query string, deadline time.Time) {
	t.Helper()
	for {
		if len(s.Query(t, query)) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no series for %s in VictoriaMetrics by the deadline", query)
		}
		time.Sleep(2 * time.Second)
	}
}
