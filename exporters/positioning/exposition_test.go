package positioning

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/minewatch/minewatch/internal/testenv"
)

// smallState returns a collector over a state with one person, one
// vehicle and one registered equipment tag of mine 320382000101, on a
// clock at 2026-11-20 14:00:00 UTC, with a 1-minute tag expiry.
func smallState(t *testing.T) (*Collector, *State, *testenv.Clock) {
	t.Helper()
	clock := testenv.NewClock(time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC))
	state := NewState(nil, 10, time.Minute)
	cfg := &Config{LowBatteryPercent: 20, GridCellMeters: 50,
		Equipment: []Equipment{{MineID: "320382000101", Tag: "SHEARER-1", X: 1450, Y: 575, Z: -431}}}
	fix := clock.Now().Add(-time.Second)
	updates := []Update{
		{MineID: "320382000101", TagID: "P1", Kind: KindPerson, X: 1040.5, Y: 500, Z: -430,
			Area: "3203820001010004", Time: fix, Battery: 15, SOS: true},
		{MineID: "320382000101", TagID: "V1", Kind: KindVehicle, X: 1043.5, Y: 504, Z: -430,
			Time: fix, Battery: -1},
		{MineID: "320382000101", TagID: "SHEARER-1", Kind: KindEquipment, X: 1453, Y: 579, Z: -431,
			Time: fix, Battery: 100},
	}
	for _, u := range updates {
		if !state.Apply(u, clock.Now().Add(-30*time.Second)) {
			t.Fatalf("update of %s rejected", u.TagID)
		}
	}
	return NewCollector(state, nil, cfg, clock.Now), state, clock
}

// text joins the families of Expose with HELP and TYPE lines.
func text(families []TextFamily) string {
	var b strings.Builder
	for _, f := range families {
		b.WriteString("# HELP " + f.Name + " " + f.Help + "\n")
		b.WriteString("# TYPE " + f.Name + " " + strings.ToLower(f.Type.String()) + "\n")
		b.Write(f.Samples)
	}
	return b.String()
}

func TestExposeSmallState(t *testing.T) {
	c, _, _ := smallState(t)
	want := `# HELP mine_area_persons Persons in an area, from the latest positioning data of the source.
# TYPE mine_area_persons gauge
mine_area_persons{area="3203820001010004",area_type="other",mine_id="320382000101",source="uwb"} 1
# HELP mine_equipment_displacement_meters Distance in 3D of an equipment tag from its registered position.
# TYPE mine_equipment_displacement_meters gauge
mine_equipment_displacement_meters{equipment="SHEARER-1",mine_id="320382000101"} 5
# HELP mine_equipment_position_meters Position of an equipment tag on the mine grid from its last fix.
# TYPE mine_equipment_position_meters gauge
mine_equipment_position_meters{axis="x",equipment="SHEARER-1",mine_id="320382000101"} 1453
mine_equipment_position_meters{axis="y",equipment="SHEARER-1",mine_id="320382000101"} 579
mine_equipment_position_meters{axis="z",equipment="SHEARER-1",mine_id="320382000101"} -431
# HELP mine_feed_last_data_timestamp_seconds Data time of the newest data of a feed (national file type, MQTT topic group, terminal group), Unix seconds.
# TYPE mine_feed_last_data_timestamp_seconds gauge
mine_feed_last_data_timestamp_seconds{feed="mqtt_positioning",mine_id="320382000101"} 1.795183199e+09
# HELP mine_person_position_meters Position of a card on the mine grid, in metres; source station is its station's RYJZ coordinates, moved along the plan's tunnel by the RYSS signed distance where a plan is configured; uwb is the last UWB fix.
# TYPE mine_person_position_meters gauge
mine_person_position_meters{axis="x",card="P1",mine_id="320382000101",source="uwb"} 1040.5
mine_person_position_meters{axis="y",card="P1",mine_id="320382000101",source="uwb"} 500
mine_person_position_meters{axis="z",card="P1",mine_id="320382000101",source="uwb"} -430
# HELP mine_person_sos 1 while a card raises SOS, else 0.
# TYPE mine_person_sos gauge
mine_person_sos{card="P1",mine_id="320382000101",source="uwb"} 1
# HELP mine_person_underground_seconds Seconds since a card went underground, at the data's time.
# TYPE mine_person_underground_seconds gauge
mine_person_underground_seconds{card="P1",mine_id="320382000101",source="uwb"} 30
# HELP mine_positioning_messages_total Tag messages decoded and applied to the live state.
# TYPE mine_positioning_messages_total counter
mine_positioning_messages_total{mine_id="320382000101"} 3
# HELP mine_positioning_tags Live tags of a mine by kind.
# TYPE mine_positioning_tags gauge
mine_positioning_tags{kind="person",mine_id="320382000101"} 1
mine_positioning_tags{kind="vehicle",mine_id="320382000101"} 1
mine_positioning_tags{kind="equipment",mine_id="320382000101"} 1
# HELP mine_positioning_tags_low_battery Live tags whose battery is below the configured low_battery_percent.
# TYPE mine_positioning_tags_low_battery gauge
mine_positioning_tags_low_battery{kind="person",mine_id="320382000101"} 1
mine_positioning_tags_low_battery{kind="vehicle",mine_id="320382000101"} 0
mine_positioning_tags_low_battery{kind="equipment",mine_id="320382000101"} 0
# HELP mine_positioning_tags_rejected_total Messages of new tags rejected because the live state held max_tags tags.
# TYPE mine_positioning_tags_rejected_total counter
mine_positioning_tags_rejected_total{mine_id="320382000101"} 0
# HELP mine_restricted_area_persons Persons in restricted areas (area_type restricted).
# TYPE mine_restricted_area_persons gauge
mine_restricted_area_persons{mine_id="320382000101",source="uwb"} 0
# HELP mine_tag_battery_ratio Battery level of a tag from its last message, 0 to 1.
# TYPE mine_tag_battery_ratio gauge
mine_tag_battery_ratio{kind="person",mine_id="320382000101",tag="P1"} 0.15
mine_tag_battery_ratio{kind="equipment",mine_id="320382000101",tag="SHEARER-1"} 1
# HELP mine_underground_persons Persons underground, from the latest positioning data of the source.
# TYPE mine_underground_persons gauge
mine_underground_persons{mine_id="320382000101",source="uwb"} 1
# HELP mine_vehicle_person_distance_meters Distance in 3D from a vehicle to the nearest live person tag of its mine.
# TYPE mine_vehicle_person_distance_meters gauge
mine_vehicle_person_distance_meters{mine_id="320382000101",vehicle="V1"} 5
# HELP mine_vehicle_position_meters Position of a vehicle tag on the mine grid from its last fix.
# TYPE mine_vehicle_position_meters gauge
mine_vehicle_position_meters{axis="x",mine_id="320382000101",vehicle="V1"} 1043.5
mine_vehicle_position_meters{axis="y",mine_id="320382000101",vehicle="V1"} 504
mine_vehicle_position_meters{axis="z",mine_id="320382000101",vehicle="V1"} -430
`
	if got := text(c.Expose()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestExposeMatchesCollect checks that the text and the const metrics of
// Collect carry the same series and values.
func TestExposeMatchesCollect(t *testing.T) {
	c, _, _ := smallState(t)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(strings.NewReader(text(c.Expose())))
	if err != nil {
		t.Fatalf("exposed text does not parse: %v", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	gathered, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(gathered) != len(parsed) {
		t.Errorf("Collect gives %d families, Expose %d", len(gathered), len(parsed))
	}
	for _, g := range gathered {
		p := parsed[g.GetName()]
		if p == nil {
			t.Errorf("family %s missing from the text", g.GetName())
			continue
		}
		if g.GetType() != p.GetType() || g.GetHelp() != p.GetHelp() {
			t.Errorf("family %s: type %s help %q in Collect, type %s help %q in the text",
				g.GetName(), g.GetType(), g.GetHelp(), p.GetType(), p.GetHelp())
		}
		want := map[string]float64{}
		for _, m := range g.GetMetric() {
			want[labelString(m)] = value(m)
		}
		got := map[string]float64{}
		for _, m := range p.GetMetric() {
			got[labelString(m)] = value(m)
		}
		if !maps.Equal(got, want) {
			t.Errorf("family %s: text %v, Collect %v", g.GetName(), got, want)
		}
	}
}

func TestExposeEscapesLabelValues(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC))
	state := NewState(nil, 10, time.Minute)
	ids := map[string]string{
		`quote"d`:    `quote\"d`,
		`back\slash`: `back\\slash`,
		"line\nfeed": `line\nfeed`,
		"井下-1":       "井下-1",
		"bad\xffid":  "bad\uFFFDid",
	}
	for id := range ids {
		state.Apply(Update{MineID: "320382000101", TagID: id, Kind: KindPerson, Time: clock.Now(), Battery: -1},
			clock.Now())
	}
	c := NewCollector(state, nil, &Config{GridCellMeters: 50}, clock.Now)
	out := text(c.Expose())
	for id, escaped := range ids {
		want := `mine_person_sos{card="` + escaped + `",mine_id="320382000101",source="uwb"} 0` + "\n"
		if !strings.Contains(out, want) {
			t.Errorf("tag %q: no line %q in\n%s", id, want, out)
		}
	}

	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(strings.NewReader(out))
	if err != nil {
		t.Fatalf("exposed text does not parse: %v", err)
	}
	cards := map[string]bool{}
	for _, m := range parsed["mine_person_sos"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "card" {
				cards[l.GetValue()] = true
			}
		}
	}
	for _, id := range []string{`quote"d`, `back\slash`, "line\nfeed", "井下-1", "bad\uFFFDid"} {
		if !cards[id] {
			t.Errorf("card %q does not parse back; cards: %v", id, cards)
		}
	}
}

func TestExposeDropsExpiredTags(t *testing.T) {
	c, state, clock := smallState(t)
	clock.Advance(20 * time.Second)
	state.Apply(Update{MineID: "320382000101", TagID: "P2", Kind: KindPerson, X: 1, Y: 2, Z: 3,
		Time: clock.Now(), Battery: -1}, clock.Now())
	// The first three tags were last heard 50 s ago; 11 s more passes the
	// 1-minute expiry without an expiry sweep, which a scrape must not need.
	clock.Advance(11 * time.Second)
	out := text(c.Expose())
	for _, tag := range []string{"P1", "V1", "SHEARER-1"} {
		if strings.Contains(out, `"`+tag+`"`) {
			t.Errorf("expired tag %s still on /metrics:\n%s", tag, out)
		}
	}
	if !strings.Contains(out, `mine_person_sos{card="P2",mine_id="320382000101",source="uwb"} 0`) {
		t.Errorf("live tag P2 missing:\n%s", out)
	}
	if !strings.Contains(out, `mine_positioning_tags{kind="vehicle",mine_id="320382000101"} 0`) {
		t.Errorf("vehicle count is not 0 after expiry:\n%s", out)
	}
}
