//go:build e2e

package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/exporters/sim"
	"github.com/minewatch/minewatch/internal/testenv"
)

// TestVideoViolations runs the simulated cameras of deploy/local/scenario.yml
// through mine-exporter, VictoriaMetrics, vmalert and Alertmanager:
//
//   - a mine in secret_night_work sends belt_running (ONVIF metadata),
//     truck_out (Frigate) and person_in (webhook), so secret_operation
//     fires with video evidence;
//   - a mine in dispatch_empty posts leavePosition alarms from its dispatch
//     room camera, so dispatch_unmanned fires after 5 minutes of data.
//
// Video metrics come from scrapes, so the 5 minutes are real minutes: the
// test takes about 8 minutes.
func TestVideoViolations(t *testing.T) {
	t.Parallel()
	scenario, err := sim.Load(filepath.Join(testenv.RepoRoot(), "deploy", "local", "scenario.yml"))
	if err != nil {
		t.Fatal(err)
	}
	secretMine := mineInState(scenario, sim.StateSecretNightWork)
	dispatchMine := mineInState(scenario, sim.StateDispatchEmpty)
	if secretMine == "" {
		t.Fatal("deploy/local/scenario.yml has no mine in secret_night_work at the start")
	}

	s := SharedStack(t)

	t.Run("cameras up", func(t *testing.T) {
		waitForValue(t, s, `count(max by (mine_id, camera) (mine_camera_up) == 1)`, 8, 3*time.Minute)
		for _, r := range s.Query(t, `mine_camera_stream_info`) {
			if r.Labels["codec"] != "h264" || r.Labels["resolution"] != "320x240" {
				t.Errorf("camera %s: stream_info %v, want h264 320x240", r.Labels["camera"], r.Labels)
			}
		}
	})

	t.Run("secret operation with video evidence", func(t *testing.T) {
		evidence := `max(mine:production_evidence:bool{mine_id="` + secretMine + `",evidence="video_truck_out"})`
		waitForValue(t, s, evidence, 1, 4*time.Minute)
		waitForValue(t, s, `max(mine:production_evidence:bool{mine_id="`+secretMine+`",evidence="video_person_in"})`,
			1, 4*time.Minute)

		deadline := time.Now().Add(3 * time.Minute)
		for {
			desc := firingDescription(t, s, "secret_operation", secretMine)
			if strings.Contains(desc, "video_truck_out") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("vmalert's secret_operation of mine %s does not list video_truck_out: %q", secretMine, desc)
			}
			time.Sleep(5 * time.Second)
		}
		s.WaitForAlert(t, map[string]string{"violation": "secret_operation", "mine_id": secretMine}, 3*time.Minute)
	})

	t.Run("dispatch room unmanned", func(t *testing.T) {
		if dispatchMine == "" {
			t.Fatal("deploy/local/scenario.yml has no mine in dispatch_empty at the start; " +
				"add dispatch_empty to a timeline entry at 0s")
		}
		waitForValue(t, s, `max(mine_video_event_active{mine_id="`+dispatchMine+`",event="dispatch_absent"})`,
			1, 3*time.Minute)
		// 6 whole minutes of data, one scrape interval and the vmalert and
		// Alertmanager group waits.
		s.WaitForAlert(t, map[string]string{"violation": "dispatch_unmanned", "mine_id": dispatchMine,
			"camera": "dispatch_room"}, 10*time.Minute)
	})
}

// mineInState returns the first mine whose timeline holds state at the start.
func mineInState(s *sim.Scenario, state string) string {
	for i := range s.Mines {
		if slices.Contains(s.Mines[i].StatesAt(0), state) {
			return s.Mines[i].ID
		}
	}
	return ""
}

// waitForValue polls an instant query until its first value equals want.
func waitForValue(t *testing.T, s *Stack, query string, want float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res := s.Query(t, query)
		if len(res) > 0 && res[0].Value == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s returned %v, not %v, within %s", query, res, want, timeout)
		}
		time.Sleep(5 * time.Second)
	}
}

// firingDescription returns the description of the named alert of a mine
// as vmalert renders it now, or "".
func firingDescription(t *testing.T, s *Stack, alertname, mineID string) string {
	t.Helper()
	var resp struct {
		Data struct {
			Alerts []struct {
				State       string            `json:"state"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := getJSON(s.VMAlert+"/api/v1/alerts", &resp); err != nil {
		t.Fatalf("reading vmalert's alerts: %v", err)
	}
	for _, a := range resp.Data.Alerts {
		if a.State == "firing" && a.Labels["alertname"] == alertname && a.Labels["mine_id"] == mineID {
			return a.Annotations["description"]
		}
	}
	return ""
}
