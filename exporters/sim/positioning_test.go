package sim

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/internal/testenv"
)

func sampleTagSim(t *testing.T, mineID string) *TagSim {
	t.Helper()
	layout, err := LoadPlanLayout(filepath.Join(testenv.RepoRoot(), "deploy/local/plans", mineID+".geojson"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Positioning{Plan: "x", Equipment: []SimEquipment{{Tag: "SHEARER-1", X: 1450, Y: 575, Z: -431}}}
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	return NewTagSim(mineID, cfg, layout)
}

// areaCounts counts persons per area type, and the nearest person to the
// first vehicle.
func areaCounts(s *TagSim, fixes []Fix) (map[string]int, float64) {
	counts := map[string]int{}
	nearest := math.Inf(1)
	for _, f := range fixes {
		if f.Kind != "person" {
			continue
		}
		if a := s.Layout.areas.Locate(f.X, f.Y, f.Z); a != nil {
			counts[a.Type]++
		}
	}
	for _, v := range fixes {
		if v.Tag != s.Vehicle(0) {
			continue
		}
		for _, p := range fixes {
			if p.Kind == "person" {
				nearest = math.Min(nearest, math.Sqrt((p.X-v.X)*(p.X-v.X)+(p.Y-v.Y)*(p.Y-v.Y)+(p.Z-v.Z)*(p.Z-v.Z)))
			}
		}
	}
	return counts, nearest
}

func TestTagSimProducingIsQuiet(t *testing.T) {
	s := sampleTagSim(t, "320382000101")
	for sec := 0; sec < 7200; sec += 13 {
		fixes := s.Fixes(time.Duration(sec)*time.Second, []string{StateProducing})
		counts, nearest := areaCounts(s, fixes)
		if counts["restricted"] != 0 {
			t.Fatalf("at %ds a person is in a restricted area while producing", sec)
		}
		if nearest < 5 {
			t.Fatalf("at %ds vehicle %s is %.1f m from a person while producing", sec, s.Vehicle(0), nearest)
		}
		for _, f := range fixes {
			if f.SOS {
				t.Fatalf("at %ds card %s raises SOS while producing", sec, f.Tag)
			}
			if f.Kind == "equipment" && (f.X != 1450 || f.Y != 575) {
				t.Fatalf("at %ds equipment %s moved while producing", sec, f.Tag)
			}
		}
	}
}

func TestTagSimScenarioEvents(t *testing.T) {
	s := sampleTagSim(t, "320382000101")
	at := 10 * time.Minute
	counts, _ := areaCounts(s, s.Fixes(at, []string{StateRestrictedEntry}))
	if counts["restricted"] != 1 {
		t.Errorf("restricted_entry puts %d persons in the restricted area, expected 1", counts["restricted"])
	}
	_, nearest := areaCounts(s, s.Fixes(at, []string{StateVehicleNearPerson}))
	if nearest >= 5 {
		t.Errorf("vehicle_near_person leaves the vehicle %.1f m from the nearest person", nearest)
	}
	sos := 0
	for _, f := range s.Fixes(at, []string{StateSOS}) {
		if f.SOS {
			sos++
		}
	}
	if sos != 1 {
		t.Errorf("sos raises %d SOS cards, expected 1", sos)
	}
	face := 0
	for _, f := range s.Fixes(at, []string{StateOvercrowdedFace}) {
		if f.Area == "3203820001010004" && f.Kind == "person" {
			face++
		}
	}
	if face <= 16 {
		t.Errorf("overcrowded_face puts %d persons at the face, limit 16", face)
	}
	for _, f := range s.Fixes(at, []string{StateSecretNightWork}) {
		if f.Kind == "equipment" && f.X-1450 < 10 {
			t.Errorf("secret_night_work moved %s only %.1f m", f.Tag, f.X-1450)
		}
	}
}

func TestTagSimPayloadDecodes(t *testing.T) {
	s := sampleTagSim(t, "320382000101")
	f := s.Fixes(time.Minute, []string{StateSOS})[18]
	got := string(s.Payload(f, time.Date(2026, 11, 20, 14, 15, 3, 120e6, time.UTC)))
	want := `"ts":"2026-11-20T22:15:03.120+08:00"`
	if !strings.Contains(got, want) || !strings.Contains(got, `"sos":true`) {
		t.Errorf("payload %s lacks %s or the SOS flag", got, want)
	}
	if topic := s.Topic(f.Tag); topic != "mine/320382000101/uwb/tag/32038200010100019" {
		t.Errorf("topic %s", topic)
	}
}
