package national

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/internal/testenv"
)

// lineFeature returns a tunnel feature with the given positions.
func lineFeature(name string, coords ...[]float64) string {
	data, err := json.Marshal(map[string]any{
		"type":       "Feature",
		"properties": map[string]any{"kind": "tunnel", "name": name, "z": -430},
		"geometry":   map[string]any{"type": "LineString", "coordinates": coords},
	})
	if err != nil {
		panic(err)
	}
	return string(data)
}

// planText returns a plan of mine 1 with the given features.
func planText(features ...string) string {
	return `{"type": "FeatureCollection", "properties": {"mine_id": "320382000101"}, "features": [` +
		strings.Join(features, ",") + `]}`
}

func mustPlan(t *testing.T, features ...string) *minePlan {
	t.Helper()
	p, err := parsePlan(mine1, []byte(planText(features...)))
	if err != nil {
		t.Fatalf("parsePlan: %v", err)
	}
	return p
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestTunnelPlacement(t *testing.T) {
	// An L: 100 m east along y = 0, then 50 m north along x = 100.
	ell := lineFeature("L", []float64{0, 0}, []float64{100, 0}, []float64{100, 50})
	// Two tunnels meeting end to start at (100, 0), as at the stations of
	// the sample plans.
	first := lineFeature("first", []float64{0, 0}, []float64{100, 0})
	second := lineFeature("second", []float64{100, 0}, []float64{200, 0})
	// Two parallel tunnels 3 m apart.
	upper := lineFeature("upper", []float64{0, 3}, []float64{100, 3})

	cases := []struct {
		name     string
		plan     []string
		station  [3]float64
		distance float64
		want     [3]float64
	}{
		{"mid-segment forward", []string{ell}, [3]float64{40, 0, -430}, 10, [3]float64{50, 0, -430}},
		{"mid-segment backward", []string{ell}, [3]float64{40, 0, -430}, -10, [3]float64{30, 0, -430}},
		{"zero distance", []string{ell}, [3]float64{40, 0, -430}, 0, [3]float64{40, 0, -430}},
		{"crosses vertex forward", []string{ell}, [3]float64{90, 0, -430}, 30, [3]float64{100, 20, -430}},
		{"crosses vertex backward", []string{ell}, [3]float64{100, 20, -430}, -30, [3]float64{90, 0, -430}},
		{"clamped at end", []string{ell}, [3]float64{100, 40, -430}, 25, [3]float64{100, 50, -430}},
		{"clamped at start", []string{ell}, [3]float64{5, 0, -430}, -20, [3]float64{0, 0, -430}},
		{"station on vertex forward", []string{ell}, [3]float64{100, 0, -430}, 5, [3]float64{100, 5, -430}},
		{"station on vertex backward", []string{ell}, [3]float64{100, 0, -430}, -5, [3]float64{95, 0, -430}},
		{"station off the line", []string{ell}, [3]float64{40, 3, -430}, 10, [3]float64{50, 0, -430}},
		{"junction forward", []string{first, second}, [3]float64{100, 0, -430}, 10, [3]float64{110, 0, -430}},
		{"junction backward", []string{first, second}, [3]float64{100, 0, -430}, -10, [3]float64{90, 0, -430}},
		{"junction listed reversed", []string{second, first}, [3]float64{100, 0, -430}, 10, [3]float64{110, 0, -430}},
		{"nearest of two tunnels", []string{upper, first}, [3]float64{50, 1, -430}, 10, [3]float64{60, 0, -430}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustPlan(t, c.plan...)
			a, ok := p.anchorStation(c.station[0], c.station[1], 5)
			if !ok {
				t.Fatalf("station %v not placed on a tunnel", c.station)
			}
			got := a.place(c.station, c.distance)
			for i, axis := range axes {
				if !near(got[i], c.want[i]) {
					t.Errorf("%s = %v, want %v (position %v)", axis, got[i], c.want[i], got)
				}
			}
		})
	}
}

func TestTunnelNoneNearby(t *testing.T) {
	p := mustPlan(t, lineFeature("L", []float64{0, 0}, []float64{100, 0}))
	if _, ok := p.anchorStation(40, 5.5, 5); ok {
		t.Error("station 5.5 m from the only tunnel was placed on it with a 5 m tolerance")
	}
	if _, ok := p.anchorStation(40, 4.5, 5); !ok {
		t.Error("station 4.5 m from the tunnel was not placed on it with a 5 m tolerance")
	}
	anchors, offPlan := anchorStations(p, map[string][3]float64{"on": {10, 0, 0}, "off": {10, 50, 0}}, 5)
	if _, ok := anchors["on"]; !ok {
		t.Error("station on the tunnel has no anchor")
	}
	if len(offPlan) != 1 || offPlan[0] != "off" {
		t.Errorf("off-plan stations = %v, want [off]", offPlan)
	}
}

func TestTunnelZFollowsVertices(t *testing.T) {
	// A decline: 100 m east while falling 10 m. Distances run along the
	// slope.
	p := mustPlan(t, lineFeature("decline", []float64{0, 0, -400}, []float64{100, 0, -410}))
	a, ok := p.anchorStation(50, 0, 5)
	if !ok {
		t.Fatal("station not placed on the decline")
	}
	slope := math.Hypot(100, 10)
	f := 0.5 + 10/slope
	got := a.place([3]float64{50, 0, -999}, 10)
	if !near(got[0], 100*f) {
		t.Errorf("x = %v, want %v", got[0], 100*f)
	}
	if !near(got[2], -400-10*f) {
		t.Errorf("z = %v, want %v interpolated along the decline", got[2], -400-10*f)
	}
}

func TestParsePlanErrors(t *testing.T) {
	good := lineFeature("good", []float64{0, 0}, []float64{10, 0})
	cases := []struct {
		name string
		text string
		want string
	}{
		{"invalid JSON", `{"type": "FeatureCollection", "features": [`, "invalid GeoJSON"},
		{"not a collection", `{"type": "Feature"}`, `type is "Feature", expected FeatureCollection`},
		{"other mine", strings.Replace(planText(good), mine1, mine2, 1), `properties.mine_id is "320382000202"`},
		{"point tunnel", planText(good, `{"type": "Feature", "properties": {"kind": "tunnel", "name": "p"},
			"geometry": {"type": "Point", "coordinates": [1, 2]}}`),
			`features[1] (tunnel "p"): geometry type is "Point", expected LineString`},
		{"no geometry", planText(good, `{"type": "Feature", "properties": {"kind": "tunnel", "name": "g"}}`),
			`features[1] (tunnel "g"): geometry type is none`},
		{"one position", planText(good, lineFeature("one", []float64{0, 0})),
			`features[1] (tunnel "one"): a LineString needs at least 2 positions, found 1`},
		{"four numbers", planText(good, lineFeature("four", []float64{0, 0, 0, 0}, []float64{1, 1, 1, 1})),
			`features[1] (tunnel "four"): position 0 has 4 numbers`},
		{"mixed z", planText(good, lineFeature("mixed", []float64{0, 0, -400}, []float64{1, 1})),
			`features[1] (tunnel "mixed"): position 1: either every position carries z or none does`},
		{"zero length", planText(good, lineFeature("dot", []float64{5, 5}, []float64{5, 5})),
			`features[1] (tunnel "dot"): all positions are the same point`},
		{"text coordinates", planText(good, `{"type": "Feature", "properties": {"kind": "tunnel", "name": "s"},
			"geometry": {"type": "LineString", "coordinates": [["a", "b"], [1, 2]]}}`),
			`features[1] (tunnel "s"): coordinates must be a list`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parsePlan(mine1, []byte(c.text))
			if err == nil {
				t.Fatalf("plan accepted, want error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestLoadPlansSamples(t *testing.T) {
	plans, skipped, errs, err := loadPlans(samplePlansDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Fatalf("sample plans have errors: %v", errs[0])
	}
	if len(skipped) != 0 {
		t.Errorf("skipped %v, want no file skipped", skipped)
	}
	for id, want := range map[string]int{mine1: 8, mine2: 5} {
		if p := plans[id]; p == nil {
			t.Errorf("plan of mine %s missing", id)
		} else if len(p.tunnels) != want {
			t.Errorf("plan of mine %s has %d tunnels, want %d", id, len(p.tunnels), want)
		}
	}
}

func TestLoadPlansBrokenFileSkipped(t *testing.T) {
	dir := t.TempDir()
	writePlan(t, dir, mine1+".geojson", planText(lineFeature("bad", []float64{0, 0})))
	writePlan(t, dir, mine2+".geojson",
		strings.Replace(planText(lineFeature("ok", []float64{0, 0}, []float64{1, 0})), mine1, mine2, 1))
	writePlan(t, dir, "overview.geojson", planText())
	writePlan(t, dir, "notes.txt", "not a plan")

	plans, skipped, errs, err := loadPlans(dir)
	if err != nil {
		t.Fatal(err)
	}
	if plans[mine2] == nil {
		t.Error("valid plan of mine 2 not loaded beside a broken one")
	}
	if plans[mine1] != nil {
		t.Error("broken plan of mine 1 loaded")
	}
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want 1", errs)
	}
	msg := errs[0].Error()
	for _, part := range []string{filepath.Join(dir, mine1+".geojson"), `features[0] (tunnel "bad")`} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not name %s", msg, part)
		}
	}
	if errs[0].mineID != mine1 || errs[0].reason != ReasonPlanInvalid {
		t.Errorf("error of mine %q, reason %q; want mine %s, reason %s", errs[0].mineID, errs[0].reason, mine1, ReasonPlanInvalid)
	}
	if len(skipped) != 1 || skipped[0] != "overview.geojson" {
		t.Errorf("skipped = %v, want [overview.geojson]", skipped)
	}
}

func TestConfigPlansDirMissing(t *testing.T) {
	cfg := Config{Inbox: t.TempDir(), PlansDir: filepath.Join(t.TempDir(), "missing")}
	cfg.SetDefaults()
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "plans_dir") {
		t.Errorf("Validate = %v, want an error naming plans_dir", err)
	}
	cfg.PlansDir = samplePlansDir()
	cfg.PlanToleranceMeters = -1
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "plan_tolerance_meters") {
		t.Errorf("Validate = %v, want an error naming plan_tolerance_meters", err)
	}
}

// Card 32038200010100007 of the mine 1 sample is 29.08 m from station
// 3203820001010004000001 at (1400, 570, -430); card 32038200010100003 is
// -2.60 m from it. The station joins the roadway from (1260, 535) to the
// working face tunnel towards (1620, 605).
func TestInboxPlacesCardsOnTunnels(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.PlansDir = samplePlansDir() }, nil)
	copySamples(t, h.inbox)
	h.pass()

	face := math.Hypot(220, 35)
	roadway := math.Hypot(140, 35)
	cards := []struct {
		card string
		want [3]float64
	}{
		{"32038200010100007", [3]float64{1400 + 220*29.08/face, 570 + 35*29.08/face, -430}},
		{"32038200010100003", [3]float64{1400 - 140*2.60/roadway, 570 - 35*2.60/roadway, -430}},
	}
	for _, c := range cards {
		for i, axis := range axes {
			got, ok := h.gauge("mine_person_position_meters",
				map[string]string{"mine_id": mine1, "card": c.card, "axis": axis, "source": "station"})
			if !ok {
				t.Errorf("position %s of card %s missing", axis, c.card)
				continue
			}
			if math.Abs(got-c.want[i]) > 1e-6 {
				t.Errorf("position %s of card %s = %v, want %v", axis, c.card, got, c.want[i])
			}
		}
	}

	// All 39 underground cards of the mine 1 sample carry a distance and
	// a station of RYJZ that lies on a tunnel.
	positions := h.src.counters.positions
	if got := testutil.ToFloat64(positions.WithLabelValues(mine1, PositionTunnel)); got != 39 {
		t.Errorf("tunnel positions of mine 1 = %v, want 39", got)
	}
	if got := testutil.ToFloat64(positions.WithLabelValues(mine1, PositionStation)); got != 0 {
		t.Errorf("station positions of mine 1 = %v, want 0", got)
	}
}

func TestInboxBrokenPlanKeepsStations(t *testing.T) {
	dir := t.TempDir()
	writePlan(t, dir, mine1+".geojson", `{"type": "FeatureCollection", "features": [`)
	data, err := os.ReadFile(filepath.Join(samplePlansDir(), mine2+".geojson"))
	if err != nil {
		t.Fatal(err)
	}
	writePlan(t, dir, mine2+".geojson", string(data))

	h := newHarness(t, func(c *Config) { c.PlansDir = dir }, nil)
	copySamples(t, h.inbox)
	h.pass()
	h.assertDone(mine1, ryssName)

	x, ok := h.gauge("mine_person_position_meters",
		map[string]string{"mine_id": mine1, "card": "32038200010100007", "axis": "x"})
	if !ok || x != 1400 {
		t.Errorf("x of card 32038200010100007 = %v (present %v), want 1400 from its station", x, ok)
	}
	errs, _ := h.gauge("mine_source_errors_total",
		map[string]string{"mine_id": mine1, "source": sourceName, "target": "plan", "reason": ReasonPlanInvalid})
	if errs != 1 {
		t.Errorf("plan errors of mine 1 = %v, want 1", errs)
	}
	positions := h.src.counters.positions
	if got := testutil.ToFloat64(positions.WithLabelValues(mine1, PositionStation)); got != 39 {
		t.Errorf("station positions of mine 1 = %v, want 39", got)
	}
	if got := testutil.ToFloat64(positions.WithLabelValues(mine2, PositionTunnel)); got == 0 {
		t.Error("no card of mine 2 placed on a tunnel although its plan is valid")
	}
}

func TestStatePlansReplaced(t *testing.T) {
	h := newHarness(t, nil, nil)
	copySamples(t, h.inbox)
	h.pass()
	labels := map[string]string{"mine_id": mine1, "card": "32038200010100007", "axis": "x"}
	if x, _ := h.gauge("mine_person_position_meters", labels); x != 1400 {
		t.Fatalf("x without a plan = %v, want 1400 from the station", x)
	}

	plans, _, _, err := loadPlans(samplePlansDir())
	if err != nil {
		t.Fatal(err)
	}
	h.src.state.setPlans(plans, 5)
	want := 1400 + 220*29.08/math.Hypot(220, 35)
	if x, _ := h.gauge("mine_person_position_meters", labels); math.Abs(x-want) > 1e-6 {
		t.Errorf("x with the plan = %v, want %v", x, want)
	}

	h.src.state.setPlans(nil, 5)
	if x, _ := h.gauge("mine_person_position_meters", labels); x != 1400 {
		t.Errorf("x after the plan was removed = %v, want 1400", x)
	}
}

func samplePlansDir() string {
	return filepath.Join(testenv.RepoRoot(), "deploy", "local", "plans")
}

func writePlan(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
