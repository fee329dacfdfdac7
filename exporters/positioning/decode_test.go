package positioning

import (
	"bufio"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

type sampleLine struct {
	Topic   string          `json:"topic"`
	Payload json.RawMessage `json:"payload"`
}

func readSamples(t testing.TB) []sampleLine {
	t.Helper()
	f, err := os.Open("testdata/uwb-tags.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sampleLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l sampleLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("sample line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func compiledTopic(t testing.TB, tp Topic) *Topic {
	t.Helper()
	tp.Fields.setDefaults()
	if err := tp.compile(); err != nil {
		t.Fatal(err)
	}
	return &tp
}

func TestDecodeSampleMessages(t *testing.T) {
	tp := compiledTopic(t, sampleTopic())
	samples := readSamples(t)
	if len(samples) != 5 {
		t.Fatalf("got %d sample lines, expected 5", len(samples))
	}
	var got []Update
	for _, s := range samples {
		mine, tag, ok := tp.match(s.Topic)
		if !ok {
			t.Fatalf("topic %s does not match %s", s.Topic, tp.Pattern)
		}
		u, derr := tp.decode(mine, tag, s.Payload, time.Now())
		if derr != nil {
			t.Fatalf("sample %s rejected: %s", s.Payload, derr.reason)
		}
		got = append(got, u)
	}
	sos := got[3]
	if sos.MineID != "320382000101" || sos.TagID != "32038200010100031" || sos.Kind != KindPerson {
		t.Errorf("ids of the SOS sample: %+v", sos)
	}
	if sos.X != 1790 || sos.Y != 640.1 || sos.Z != -440 {
		t.Errorf("position of the SOS sample: %v %v %v", sos.X, sos.Y, sos.Z)
	}
	if !sos.SOS || sos.Battery != 22 || sos.Area != "3203820001010012" {
		t.Errorf("state of the SOS sample: sos %v battery %v area %s", sos.SOS, sos.Battery, sos.Area)
	}
	want := time.Date(2026, 11, 20, 14, 15, 5, 0, time.UTC)
	if !sos.Time.Equal(want) {
		t.Errorf("time of the SOS sample is %s, expected %s", sos.Time, want)
	}
	if got[2].Kind != KindVehicle || got[4].Kind != KindEquipment {
		t.Errorf("kinds: %s, %s", got[2].Kind, got[4].Kind)
	}
}

func TestDecodeVendorMapping(t *testing.T) {
	tp := compiledTopic(t, Topic{
		Pattern: "vendor/positions/#",
		Fields: Fields{MineID: "site", TagID: "card.no", Kind: "card.class", X: "pos.0", Y: "pos.1", Z: "pos.2",
			Area: "zone", Time: "t", Battery: "power.level", SOS: "alarm.sos"},
		Kinds: map[string]string{"staff": KindPerson, "loco": KindVehicle},
	})
	payload := `{"site":"320382000101","card":{"no":"32038200010100042","class":"loco"},"pos":[1500.5,"590.25",-432],
		"zone":"3203820001010004","t":1795184100123,"power":{"level":55},"alarm":{"sos":true}}`
	mine, tag, ok := tp.match("vendor/positions/a/b")
	if !ok {
		t.Fatal("topic does not match")
	}
	u, derr := tp.decode(mine, tag, []byte(payload), time.Now())
	if derr != nil {
		t.Fatalf("rejected: %s", derr.reason)
	}
	if u.MineID != "320382000101" || u.TagID != "32038200010100042" || u.Kind != KindVehicle {
		t.Errorf("ids: %+v", u)
	}
	if u.X != 1500.5 || u.Y != 590.25 || u.Z != -432 {
		t.Errorf("position: %v %v %v", u.X, u.Y, u.Z)
	}
	if u.Time.UnixMilli() != 1795184100123 {
		t.Errorf("time in milliseconds decoded as %s", u.Time)
	}
	if u.Battery != 55 || !u.SOS || u.Area != "3203820001010004" {
		t.Errorf("state: %+v", u)
	}
}

func TestDecodeRejectsByReason(t *testing.T) {
	tp := compiledTopic(t, sampleTopic())
	topic := "mine/320382000101/uwb/tag/T1"
	cases := []struct {
		name, topic, payload, reason string
	}{
		{"truncated", topic, `{"type":"person","x":1`, ReasonInvalidJSON},
		{"not json", topic, `hello`, ReasonInvalidJSON},
		{"bad mine", "mine/12345/uwb/tag/T1", `{"type":"person","x":1,"y":2}`, ReasonInvalidMineID},
		{"kind", topic, `{"type":"dog","x":1,"y":2}`, ReasonUnknownKind},
		{"no kind", topic, `{"x":1,"y":2}`, ReasonUnknownKind},
		{"no x", topic, `{"type":"person","y":2}`, ReasonInvalidPos},
		{"x text", topic, `{"type":"person","x":"east","y":2}`, ReasonInvalidPos},
		{"area of other mine", topic, `{"type":"person","x":1,"y":2,"areaCode":"3203820002020001"}`, ReasonInvalidArea},
		{"time", topic, `{"type":"person","x":1,"y":2,"ts":"yesterday"}`, ReasonInvalidTime},
		{"battery", topic, `{"type":"person","x":1,"y":2,"battery":140}`, ReasonInvalidBattery},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mine, tag, ok := tp.match(c.topic)
			if !ok {
				t.Fatalf("topic %s does not match", c.topic)
			}
			_, derr := tp.decode(mine, tag, []byte(c.payload), time.Now())
			if derr == nil {
				t.Fatalf("payload %s accepted", c.payload)
			}
			if derr.reason != c.reason {
				t.Errorf("reason %s, expected %s", derr.reason, c.reason)
			}
		})
	}
}

func TestTopicMatch(t *testing.T) {
	tp := compiledTopic(t, sampleTopic())
	if got := tp.Filter(); got != "mine/+/uwb/tag/+" {
		t.Errorf("filter %s", got)
	}
	for topic, want := range map[string]bool{
		"mine/320382000101/uwb/tag/T1":   true,
		"mine/320382000101/uwb/tag":      false,
		"mine/320382000101/uwb/tag/T1/x": false,
		"mine/320382000101/uwb/card/T1":  false,
	} {
		if _, _, ok := tp.match(topic); ok != want {
			t.Errorf("match(%s) = %v, expected %v", topic, ok, want)
		}
	}
	wild := compiledTopic(t, Topic{Pattern: "site/#", MineID: "320382000101"})
	if _, _, ok := wild.match("site"); !ok {
		t.Error("site/# must match site")
	}
	if _, _, ok := wild.match("site/a/b"); !ok {
		t.Error("site/# must match site/a/b")
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := &Config{Broker: "tcp://127.0.0.1:1883", Topics: []Topic{{Pattern: "uwb/+/x"}}}
	cfg.SetDefaults()
	if err := cfg.Validate(); err == nil {
		t.Error("a pattern without a mine id is accepted")
	}
	cfg = &Config{Broker: "ftp://x", Topics: []Topic{sampleTopic()}, TLS: &TLSConfig{CertFile: "c.pem"}}
	cfg.SetDefaults()
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"scheme", "key_file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestPlanLocatesSampleFixes(t *testing.T) {
	plans := samplePlans(t)
	p := plans["320382000101"]
	if p == nil || len(p.Areas) != 5 || len(p.Levels) != 2 {
		t.Fatalf("plan of 320382000101: %+v", p)
	}
	for _, s := range readSamples(t) {
		var m struct {
			X, Y, Z  float64
			AreaCode string
		}
		if err := json.Unmarshal(s.Payload, &m); err != nil {
			t.Fatal(err)
		}
		a := p.Locate(m.X, m.Y, m.Z)
		if a == nil {
			t.Errorf("fix %v,%v,%v lies in no area, its message names %s", m.X, m.Y, m.Z, m.AreaCode)
			continue
		}
		if a.Code != m.AreaCode {
			t.Errorf("fix %v,%v,%v lies in %s, its message names %s", m.X, m.Y, m.Z, a.Code, m.AreaCode)
		}
	}
	if a := p.Locate(1790, 640.1, -432); a != nil {
		t.Errorf("a fix on the level above lies in %s", a.Code)
	}
	face := p.Area("3203820001010004")
	if face == nil || face.Limit != 16 || face.Type != AreaKey {
		t.Errorf("working face area: %+v", face)
	}
}

func TestGridNearestMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		n := r.IntN(200)
		pts := make([][3]float64, n)
		for i := range pts {
			pts[i] = [3]float64{r.Float64() * 2000, r.Float64() * 800, -r.Float64() * 50}
		}
		g := newGrid(50, pts)
		for range 20 {
			q := [3]float64{r.Float64()*2400 - 200, r.Float64()*1000 - 100, -r.Float64() * 50}
			want := math.Inf(1)
			for _, p := range pts {
				want = math.Min(want, distance(p, q))
			}
			got, ok := g.nearest(q)
			if n == 0 {
				if ok {
					t.Fatalf("round %d: empty grid returned %v", round, got)
				}
				continue
			}
			if math.Abs(got-want) > 1e-9 {
				t.Fatalf("round %d: nearest to %v is %v, brute force %v", round, q, got, want)
			}
		}
	}
}
