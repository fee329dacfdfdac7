package positioning

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/internal/testenv"
)

func TestMQTTSampleMessagesDeriveSignals(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	url := "tcp://" + broker.Addr
	cfg := baseConfig(t, url)
	cfg.Equipment = []Equipment{{MineID: "320382000101", Tag: "SHEARER-1", X: 1450, Y: 575, Z: -431}}
	cfg.LowBatteryPercent = 25
	h := startSource(t, cfg, samplePlans(t), nil)

	pub := publisher(t, url)
	samples := readSamples(t)
	for _, s := range samples {
		publish(t, pub, s.Topic, 1, string(s.Payload))
	}
	waitFor(t, 30*time.Second, "all samples processed", func() bool { return h.src.Stats().Processed == uint64(len(samples)) })

	const mine = "mine_id=320382000101"
	pos := series(t, h.reg, "mine_person_position_meters")
	if v := pos["axis=x,card=32038200010100007,"+mine+",source=uwb"]; v != 1413.02 {
		t.Errorf("x of card 32038200010100007 is %v, expected the later fix 1413.02", v)
	}
	if len(pos) != 6 {
		t.Errorf("%d person position series, expected 6 (two cards)", len(pos))
	}
	sos := series(t, h.reg, "mine_person_sos")
	if sos["card=32038200010100031,"+mine+",source=uwb"] != 1 || sos["card=32038200010100007,"+mine+",source=uwb"] != 0 {
		t.Errorf("SOS series: %v", sos)
	}
	areas := series(t, h.reg, "mine_area_persons")
	if v := areas["area=3203820001010004,area_type=key,"+mine+",source=uwb"]; v != 1 {
		t.Errorf("persons at the working face: %v", v)
	}
	if v := areas["area=3203820001010012,area_type=restricted,"+mine+",source=uwb"]; v != 1 {
		t.Errorf("persons in the restricted area: %v", v)
	}
	if v, ok := areas["area=3203820001010020,area_type=other,"+mine+",source=uwb"]; !ok || v != 0 {
		t.Errorf("empty plan area: %v %v, expected a 0 series", v, ok)
	}
	if v := series(t, h.reg, "mine_restricted_area_persons")[mine+",source=uwb"]; v != 1 {
		t.Errorf("mine_restricted_area_persons %v", v)
	}
	limits := series(t, h.reg, "mine_area_persons_limit")
	if v := limits["area=3203820001010004,area_type=key,"+mine+",source=uwb"]; v != 16 {
		t.Errorf("working face limit %v, expected 16 from the plan", v)
	}
	dist := series(t, h.reg, "mine_vehicle_person_distance_meters")["mine_id=320382000101,vehicle=V0003"]
	want := distance([3]float64{1415.8, 572, -430}, [3]float64{1413.02, 571.44, -430.1})
	if dist < want-1e-9 || dist > want+1e-9 {
		t.Errorf("vehicle distance %v, expected %v", dist, want)
	}
	if v, ok := series(t, h.reg, "mine_equipment_displacement_meters")["equipment=SHEARER-1,"+mine]; !ok || v != 0 {
		t.Errorf("shearer displacement %v %v, expected 0 at its registered position", v, ok)
	}
	low := series(t, h.reg, "mine_positioning_tags_low_battery")
	if low["kind=person,"+mine] != 1 {
		t.Errorf("low battery persons: %v", low)
	}
	if v := series(t, h.reg, "mine_underground_persons")[mine+",source=uwb"]; v != 2 {
		t.Errorf("underground persons %v", v)
	}
	feed := series(t, h.reg, "mine_feed_last_data_timestamp_seconds")["feed=mqtt_positioning,"+mine]
	if feed != float64(time.Date(2026, 11, 20, 14, 15, 5, 500e6, time.UTC).UnixMilli())/1000 {
		t.Errorf("feed time %v", feed)
	}
	if up := series(t, h.reg, "mine_source_up")[mine+",source=positioning,target="+broker.Addr]; up != 1 {
		t.Errorf("mine_source_up %v", up)
	}
	perTag := countSeriesPerTag(t, h)
	for tag, n := range perTag {
		if n > 6 {
			t.Errorf("tag %s has %d series, at most 6 allowed", tag, n)
		}
	}
}

// countSeriesPerTag counts series that carry a tag's id in any label.
func countSeriesPerTag(t testing.TB, h *harness) map[string]int {
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "card", "vehicle", "equipment", "tag":
					out[lp.GetValue()]++
				}
			}
		}
	}
	return out
}

func TestMQTTPolygonAreaWithoutAreaCode(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	url := "tcp://" + broker.Addr
	h := startSource(t, baseConfig(t, url), samplePlans(t), nil)
	pub := publisher(t, url)
	publish(t, pub, "mine/320382000101/uwb/tag/32038200010100050", 1,
		`{"type":"person","x":2230,"y":727,"z":-452,"battery":90,"sos":false}`)
	waitFor(t, 30*time.Second, "message processed", func() bool { return h.src.Stats().Processed == 1 })
	areas := series(t, h.reg, "mine_area_persons")
	if v := areas["area=3203820001010012,area_type=restricted,mine_id=320382000101,source=uwb"]; v != 1 {
		t.Errorf("a fix in the goaf polygon counts %v persons in the restricted area, expected 1", v)
	}
}

func TestMQTTVendorTopicAndMineFromPayload(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	url := "tcp://" + broker.Addr
	vendor := Topic{Pattern: "rtls/+/tags", Fields: Fields{MineID: "mine", TagID: "id", Kind: "cls",
		X: "p.x", Y: "p.y", Z: "p.z", Area: "-", Time: "ms", Battery: "bat", SOS: "help"},
		Kinds: map[string]string{"1": KindPerson, "2": KindVehicle}}
	h := startSource(t, baseConfig(t, url, sampleTopic(), vendor), samplePlans(t), nil)
	pub := publisher(t, url)
	publish(t, pub, "rtls/gw7/tags", 1,
		`{"mine":"320382000202","id":"32038200020200011","cls":1,"p":{"x":1500,"y":590,"z":-432},"ms":1795184100000,"bat":80,"help":1}`)
	publish(t, pub, "mine/320382000101/uwb/tag/V0003", 1, `{"type":"vehicle","x":1,"y":2,"z":-430}`)
	waitFor(t, 30*time.Second, "messages processed", func() bool { return h.src.Stats().Processed == 2 })
	if v := series(t, h.reg, "mine_person_sos")["card=32038200020200011,mine_id=320382000202,source=uwb"]; v != 1 {
		t.Errorf("SOS from the vendor format: %v", v)
	}
	if v := series(t, h.reg, "mine_area_persons")["area=3203820002020003,area_type=key,mine_id=320382000202,source=uwb"]; v != 1 {
		t.Errorf("persons at the 3102 face located by polygon: %v", v)
	}
	if _, ok := series(t, h.reg, "mine_vehicle_position_meters")["axis=x,mine_id=320382000101,vehicle=V0003"]; !ok {
		t.Error("vehicle of the sample topic missing next to the vendor topic")
	}
}

func TestMQTTTagExpiry(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	url := "tcp://" + broker.Addr
	clock := testenv.NewClock(time.Now())
	cfg := baseConfig(t, url)
	cfg.TagExpiry = time.Minute
	h := startSource(t, cfg, samplePlans(t), clock.Now)
	pub := publisher(t, url)
	publish(t, pub, "mine/320382000101/uwb/tag/32038200010100007", 1,
		`{"type":"person","x":1412,"y":571,"z":-430,"areaCode":"3203820001010004","sos":true}`)
	publish(t, pub, "mine/320382000101/uwb/tag/32038200010100008", 1,
		`{"type":"person","x":1413,"y":571,"z":-430,"areaCode":"3203820001010004"}`)
	waitFor(t, 30*time.Second, "messages processed", func() bool { return h.src.Stats().Processed == 2 })

	clock.Advance(40 * time.Second)
	publish(t, pub, "mine/320382000101/uwb/tag/32038200010100008", 1,
		`{"type":"person","x":1414,"y":571,"z":-430,"areaCode":"3203820001010004"}`)
	waitFor(t, 30*time.Second, "message processed", func() bool { return h.src.Stats().Processed == 3 })
	clock.Advance(30 * time.Second)

	sos := series(t, h.reg, "mine_person_sos")
	if _, ok := sos["card=32038200010100007,mine_id=320382000101,source=uwb"]; ok {
		t.Error("SOS of a tag silent for 70s is still exposed with a 1m expiry")
	}
	if _, ok := sos["card=32038200010100008,mine_id=320382000101,source=uwb"]; !ok {
		t.Error("a tag heard 30s ago expired")
	}
	if v := series(t, h.reg, "mine_area_persons")["area=3203820001010004,area_type=key,mine_id=320382000101,source=uwb"]; v != 1 {
		t.Errorf("face count after expiry %v, expected 1", v)
	}
	if v := series(t, h.reg, "mine_person_underground_seconds")["card=32038200010100008,mine_id=320382000101,source=uwb"]; v != 70 {
		t.Errorf("time underground %v, expected 70", v)
	}
	waitFor(t, 30*time.Second, "expiry sweep", func() bool { return h.state.Len() == 1 })
}

func TestMQTTTagMaximum(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	url := "tcp://" + broker.Addr
	cfg := baseConfig(t, url)
	cfg.MaxTags = 3
	h := startSource(t, cfg, nil, nil)
	pub := publisher(t, url)
	for i := range 5 {
		publish(t, pub, fmt.Sprintf("mine/320382000101/uwb/tag/3203820001010010%d", i), 1,
			`{"type":"person","x":1,"y":2,"z":-430}`)
	}
	publish(t, pub, "mine/320382000101/uwb/tag/32038200010100100", 1, `{"type":"person","x":5,"y":2,"z":-430}`)
	waitFor(t, 30*time.Second, "messages processed", func() bool { return h.src.Stats().Processed == 6 })
	if n := h.state.Len(); n != 3 {
		t.Errorf("%d live tags, expected the maximum 3", n)
	}
	if v := series(t, h.reg, "mine_positioning_tags_rejected_total")["mine_id=320382000101"]; v != 2 {
		t.Errorf("rejected %v, expected 2", v)
	}
	tag, ok := h.state.Tag("320382000101", "32038200010100100")
	if !ok || tag.X != 5 {
		t.Errorf("a known tag must still update at the maximum: %+v %v", tag, ok)
	}
}

func TestMQTTBrokerRestartKeepsSubscription(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	url := "tcp://" + broker.Addr
	cfg := baseConfig(t, url)
	cfg.KeepAlive = 2 * time.Second
	h := startSource(t, cfg, nil, nil)
	pub := publisher(t, url)
	publish(t, pub, "mine/320382000101/uwb/tag/A", 1, `{"type":"person","x":1,"y":2}`)
	waitFor(t, 30*time.Second, "first message", func() bool { return h.src.Stats().Processed == 1 })

	// The broker runs without persistence, so the restarted one has
	// forgotten the session and its subscription.
	broker.Stop()
	waitFor(t, 30*time.Second, "connection loss noticed", func() bool { return h.src.Stats().Losses >= 1 })
	restarted := exec.Command(testenv.Binary(t, "mosquitto"), "-c", filepath.Join(broker.Dir, "mosquitto.conf"))
	if err := restarted.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = restarted.Process.Kill()
		_ = restarted.Wait()
	})
	waitFor(t, 60*time.Second, "reconnect", func() bool { return h.src.Stats().Connects >= 2 && h.src.Connected() })

	pub2 := publisher(t, url)
	publish(t, pub2, "mine/320382000101/uwb/tag/B", 1, `{"type":"person","x":1,"y":2}`)
	waitFor(t, 30*time.Second, "message after the restart", func() bool { return h.src.Stats().Processed == 2 })
	if _, ok := h.state.Tag("320382000101", "B"); !ok {
		t.Error("tag published after the broker restart is missing")
	}
}

func TestMQTTBrokenMessageFlood(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	url := "tcp://" + broker.Addr
	h := startSource(t, baseConfig(t, url), nil, nil)
	pub := publisher(t, url)
	broken := []string{`{"type":"person","x":`, `[]`, `{"type":"ghost","x":1,"y":2}`, `{"type":"person","x":"n","y":2}`,
		strings.Repeat("{", 5000), "\x00\xff", `{"type":"person","x":1,"y":2,"battery":-3}`}
	const rounds = 300
	for i := range rounds {
		for _, b := range broken {
			pub.Publish("mine/320382000101/uwb/tag/BAD", 0, false, b)
		}
		pub.Publish(fmt.Sprintf("mine/320382000101/uwb/tag/G%d", i%50), 0, false,
			fmt.Sprintf(`{"type":"person","x":%d,"y":2,"z":-430}`, i))
	}
	publish(t, pub, "mine/320382000101/uwb/tag/LAST", 1, `{"type":"person","x":1,"y":2}`)
	waitFor(t, 60*time.Second, "the last good message", func() bool {
		_, ok := h.state.Tag("320382000101", "LAST")
		return ok
	})
	st := h.src.Stats()
	if st.Processed+st.Broken+st.Dropped != rounds*uint64(len(broken)+1)+1 {
		t.Errorf("processed %d + broken %d + dropped %d, expected %d messages", st.Processed, st.Broken, st.Dropped,
			rounds*(len(broken)+1)+1)
	}
	if st.Processed != rounds+1 {
		t.Errorf("processed %d good messages, expected %d", st.Processed, rounds+1)
	}
	if n := h.state.Len(); n != 51 {
		t.Errorf("%d live tags, expected 51", n)
	}
	for reason, want := range map[string]float64{ReasonInvalidJSON: 3 * rounds, ReasonUnknownKind: 2 * rounds,
		ReasonInvalidPos: rounds, ReasonInvalidBattery: rounds} {
		if got := errorCount(t, h.reg, reason); got != want {
			t.Errorf("errors with reason %s: %v, expected %v", reason, got, want)
		}
	}
}
