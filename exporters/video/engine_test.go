package video

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEngineStateLifecycle(t *testing.T) {
	env := newTestEnv(t, testConfig())
	e := env.source.Engine
	start := Raw{Format: "test", MineID: testMine, Camera: "dispatch_room", Key: "k", Type: "leavePosition", Phase: PhaseStart}

	if got := env.active("dispatch_room", EventDispatchAbsent); got != 0 {
		t.Fatalf("active before any event = %v, want 0 (initialized)", got)
	}
	for range 3 {
		if err := e.Observe(start); err != nil {
			t.Fatal(err)
		}
	}
	if got := env.active("dispatch_room", EventDispatchAbsent); got != 1 {
		t.Errorf("active after start = %v, want 1", got)
	}
	if got := env.eventsTotal("dispatch_room", EventDispatchAbsent); got != 1 {
		t.Errorf("events_total after three starts of one state = %v, want 1", got)
	}

	end := start
	end.Phase = PhaseEnd
	if err := e.Observe(end); err != nil {
		t.Fatal(err)
	}
	if got := env.active("dispatch_room", EventDispatchAbsent); got != 0 {
		t.Errorf("active after end = %v, want 0", got)
	}
}

func TestEngineStateTimeout(t *testing.T) {
	env := newTestEnv(t, testConfig())
	e := env.source.Engine
	asleep := Raw{Format: "test", MineID: testMine, Camera: "dispatch_room", Type: "sleepOnDuty", Phase: PhaseStart}
	if err := e.Observe(asleep); err != nil {
		t.Fatal(err)
	}

	env.clock.Advance(59 * time.Second)
	e.Sweep()
	if got := env.active("dispatch_room", EventDispatchAsleep); got != 1 {
		t.Errorf("active 59s into a 1m timeout = %v, want 1", got)
	}
	env.clock.Advance(time.Second)
	e.Sweep()
	if got := env.active("dispatch_room", EventDispatchAsleep); got != 0 {
		t.Errorf("active after the 1m timeout = %v, want 0", got)
	}

	// The default state_timeout (10m) applies to unmapped timeouts.
	absent := Raw{Format: "test", MineID: testMine, Camera: "dispatch_room", Type: "leavePosition", Phase: PhaseStart}
	_ = e.Observe(absent)
	env.clock.Advance(9 * time.Minute)
	_ = e.Observe(Raw{Format: "test", MineID: testMine, Camera: "dispatch_room", Type: "leavePosition", Phase: PhaseUpdate})
	env.clock.Advance(9 * time.Minute)
	e.Sweep()
	if got := env.active("dispatch_room", EventDispatchAbsent); got != 1 {
		t.Errorf("active 9m after a refresh = %v, want 1", got)
	}
}

func TestEnginePulseCountedOncePerOccurrence(t *testing.T) {
	env := newTestEnv(t, testConfig())
	e := env.source.Engine
	truck := Raw{Format: "frigate", MineID: testMine, Camera: "coal_yard_gate", Key: "t1", Type: "object",
		Label: "truck", Phase: PhaseStart}

	// Enters the exit lane only at the second update.
	truck.Zones = nil
	_ = e.Observe(truck)
	if got := env.eventsTotal("coal_yard_gate", EventTruckOut); got != 0 {
		t.Fatalf("truck_out before the exit lane = %v, want 0", got)
	}
	truck.Phase, truck.Zones = PhaseUpdate, []string{"exit_lane"}
	_ = e.Observe(truck)
	_ = e.Observe(truck)
	truck.Phase = PhaseEnd
	_ = e.Observe(truck)
	if got := env.eventsTotal("coal_yard_gate", EventTruckOut); got != 1 {
		t.Errorf("truck_out after updates and end of one truck = %v, want 1", got)
	}

	// An end of a truck never seen before still counts it.
	_ = e.Observe(Raw{Format: "frigate", MineID: testMine, Camera: "coal_yard_gate", Key: "t2", Type: "object",
		Label: "truck", Zones: []string{"exit_lane"}, Phase: PhaseEnd})
	if got := env.eventsTotal("coal_yard_gate", EventTruckOut); got != 2 {
		t.Errorf("truck_out after an end-only truck = %v, want 2", got)
	}
}

func TestEngineZoneLeftReleasesState(t *testing.T) {
	env := newTestEnv(t, testConfig())
	e := env.source.Engine
	p := Raw{Format: "frigate", MineID: testMine, Camera: "main_belt", Key: "p1", Type: "object",
		Label: "person", Zones: []string{"belt_guard"}, Phase: PhaseStart}
	_ = e.Observe(p)
	other := p
	other.Key = "p2"
	_ = e.Observe(other)
	if got := env.active("main_belt", EventDangerZonePerson); got != 1 {
		t.Fatalf("danger_zone_person with two persons = %v, want 1", got)
	}

	p.Phase, p.Zones = PhaseUpdate, nil
	_ = e.Observe(p)
	if got := env.active("main_belt", EventDangerZonePerson); got != 1 {
		t.Errorf("danger_zone_person after one of two left = %v, want 1", got)
	}
	other.Phase, other.Zones = PhaseUpdate, nil
	_ = e.Observe(other)
	if got := env.active("main_belt", EventDangerZonePerson); got != 0 {
		t.Errorf("danger_zone_person after both left = %v, want 0", got)
	}
}

func TestEngineUnknownCamera(t *testing.T) {
	env := newTestEnv(t, testConfig())
	err := env.source.Engine.Observe(Raw{Format: "test", MineID: testMine, Camera: "nowhere", Type: "x"})
	if !errors.Is(err, ErrUnknownCamera) {
		t.Fatalf("err = %v, want ErrUnknownCamera", err)
	}
	if got := testutil.ToFloat64(env.source.Engine.dropped.WithLabelValues(testMine, "test", "unknown_camera")); got != 1 {
		t.Errorf("dropped{reason=unknown_camera} = %v, want 1", got)
	}
}

func TestConfigValidateNamesFields(t *testing.T) {
	cfg := testConfig()
	cfg.Cameras[0].Events[0].Event = "smoking"
	cfg.Webhook.Sites[0].BearerToken = ""
	cfg.Cameras[1].RTSPURL = "http://cam"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted an invalid config")
	}
	for _, want := range []string{`cameras[0].events[0].event "smoking"`, "webhook.sites[0]", "cameras[1].rtsp_url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
