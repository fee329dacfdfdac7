package video

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/exporters/health"
	"github.com/minewatch/minewatch/internal/testenv"
)

const testMine = "320382000202"

type testEnv struct {
	cfg    *Config
	reg    *prometheus.Registry
	health *health.Health
	clock  *testenv.Clock
	source *Source
}

// testConfig has one webhook site and the cameras of the samples.
func testConfig() *Config {
	cfg := &Config{
		Webhook: Webhook{Sites: []Site{
			{Name: "nvr", MineID: testMine, BearerToken: "secret-token"},
			{Name: "aibox", MineID: testMine, Username: "box", Password: "pa55"},
		}},
		Cameras: []Camera{
			{ID: "dispatch_room", MineID: testMine, Events: []Mapping{
				{Type: "fielddetection", Label: "human", Event: EventPersonIn},
				{Type: "leavePosition", Event: EventDispatchAbsent},
				{Type: "sleepOnDuty", Event: EventDispatchAsleep, Timeout: time.Minute},
			}},
			{ID: "aux_shaft", MineID: testMine, Names: []string{"auxiliary_shaft_mouth"}, Events: []Mapping{
				{Type: "safetyHelmetDetection", Event: EventNoHelmet},
			}},
			{ID: "main_belt", MineID: testMine, Events: []Mapping{
				{Type: "object", Label: "person", Zone: "belt_guard", Event: EventDangerZonePerson},
				{Type: "tns1:RuleEngine/MotionRegionDetector/Motion", Zone: "belt_motion", Event: EventBeltRunning},
				{Type: "tns1:RuleEngine/FieldDetector/ObjectsInside", Zone: "danger_zone_1", Event: EventDangerZonePerson},
			}},
			{ID: "coal_yard_gate", MineID: testMine, Events: []Mapping{
				{Type: "object", Label: "truck", Zone: "exit_lane", Event: EventTruckOut},
			}},
		},
	}
	cfg.SetDefaults()
	return cfg
}

func newTestEnv(t testing.TB, cfg *Config) *testEnv {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config is invalid: %v", err)
	}
	reg := prometheus.NewRegistry()
	h := health.New(reg)
	clock := testenv.NewClock(time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return &testEnv{cfg: cfg, reg: reg, health: h, clock: clock,
		source: New(cfg, reg, h, logger, clock.Now)}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

func (e *testEnv) eventsTotal(camera, event string) float64 {
	return testutil.ToFloat64(e.source.Engine.events.WithLabelValues(testMine, camera, event))
}

func (e *testEnv) active(camera, event string) float64 {
	return testutil.ToFloat64(e.source.Engine.active.WithLabelValues(testMine, camera, event))
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
