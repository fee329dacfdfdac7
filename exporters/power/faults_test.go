package power_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minewatch/minewatch/exporters/power"
	"github.com/minewatch/minewatch/exporters/registry"
	"github.com/minewatch/minewatch/exporters/sim"
)

// simMine returns a scenario mine that holds the given states from the
// start.
func simMine(t *testing.T, states ...string) (*sim.Mine, *sim.Clock) {
	t.Helper()
	s, err := sim.Parse([]byte(fmt.Sprintf(`
mines:
  - mine_id: "%s"
    timeline:
      - {at: 0s, states: [%s]}
`, mineID, strings.Join(states, ", "))))
	if err != nil {
		t.Fatal(err)
	}
	return &s.Mines[0], s.Clock
}

// simUnit is a simulated terminal of class on a built-in map.
func simUnit(t *testing.T, id int, mapName, class string, mine *sim.Mine, clock *sim.Clock) sim.GatewayUnit {
	t.Helper()
	m, err := power.LoadMap(mapName)
	if err != nil {
		t.Fatal(err)
	}
	cfg := sim.PowerTerminalConfig{Terminal: fmt.Sprintf("t%d", id), UnitID: id, Map: mapName,
		Class: class, LineVolts: 660, EnergyKWh: 1000}
	st := sim.NewSimTerminal(cfg, m, mine, clock)
	return sim.GatewayUnit{ID: uint8(id), Source: st, States: st.States}
}

// registryFor returns a registry of the test mine with the given machines
// (YAML flow mappings).
func registryFor(t *testing.T, machines ...string) *registry.Registry {
	t.Helper()
	doc := fmt.Sprintf(`mines:
  - code: "%s"
    name: test mine
    kind: coal
    city: c
    county: c
    status: ordered_shutdown
    machines:
`, mineID)
	for _, m := range machines {
		doc += "      - " + m + "\n"
	}
	reg, err := registry.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func oneGateway(g *sim.PowerGateway, framing, mapName string, timeout time.Duration, units ...int) *power.Config {
	gw := power.Gateway{Name: "gw", MineID: mineID, Protocol: protocolOf(framing), Address: g.Addr(), Timeout: timeout}
	for _, u := range units {
		gw.Terminals = append(gw.Terminals, power.Terminal{Name: fmt.Sprintf("t%d", u), UnitID: u, Map: mapName})
	}
	return &power.Config{Interval: time.Second, Gateways: []power.Gateway{gw}}
}

func TestBatchingRequestCount(t *testing.T) {
	mine, clock := simMine(t, sim.StateProducing)
	cases := []struct {
		mapName string
		want    int64 // requests per terminal per poll
	}{
		{"eastron_sdm630", 1},
		{"chint_dtsu666", 2},
	}
	for _, tc := range cases {
		t.Run(tc.mapName, func(t *testing.T) {
			g := startGateway(t, sim.FramingTCP,
				simUnit(t, 1, tc.mapName, registry.MachineHoist, mine, clock),
				simUnit(t, 2, tc.mapName, registry.MachineBelt, mine, clock))
			r := newRig(t, oneGateway(g, sim.FramingTCP, tc.mapName, 2*time.Second, 1, 2), nil)
			for range 3 {
				if n := r.src.PollOnce(); n != 2*tc.want {
					t.Errorf("poll sent %d requests, want %d", n, 2*tc.want)
				}
			}
			for _, u := range []uint8{1, 2} {
				if got := g.Requests(u); got != 3*tc.want {
					t.Errorf("unit %d received %d requests, want %d", u, got, 3*tc.want)
				}
			}
			if c := g.Connections(); c != 1 {
				t.Errorf("%d connections, want 1 kept connection", c)
			}
			got := r.metrics(t)
			for _, term := range []string{"t1", "t2"} {
				k := key("mine_power_current_amperes", "mine_id", mineID, "terminal", term, "machine", term, "phase", "L1")
				if got[k] <= 0 {
					t.Errorf("%s = %v, want a load current", k, got[k])
				}
			}
		})
	}
}

// TestBatchingNeverSpansGap serves a device that rejects a gap: a read
// across it would fail with exception 2.
func TestBatchingNeverSpansGap(t *testing.T) {
	unit := sim.NewStaticUnit()
	unit.Gaps["input"] = [][2]uint16{{4, 5}}
	unit.SetWords("input", 0, 0x4348, 0, 0x4348, 0) // 200.0 twice
	unit.SetWords("input", 6, 0x42C8, 0)            // 100.0
	mapPath := writeFile(t, "gap.yml", `
defaults: {table: input, type: float32}
gaps: [{table: input, from: 4, to: 5}]
registers:
  - {name: v1, address: 0, quantity: voltage_volts, phase: L1}
  - {name: v2, address: 2, quantity: voltage_volts, phase: L2}
  - {name: i1, address: 6, quantity: current_amperes, phase: L1}
`)
	g := startGateway(t, sim.FramingTCP, sim.GatewayUnit{ID: 1, Source: unit})
	cfg := &power.Config{Gateways: []power.Gateway{{Name: "gw", MineID: mineID, Address: g.Addr(),
		Terminals: []power.Terminal{{Name: "t1", Map: mapPath}}}}}
	r := newRig(t, cfg, nil)
	if n := r.src.PollOnce(); n != 2 {
		t.Errorf("poll sent %d requests, want 2 (one each side of the gap)", n)
	}
	got := r.metrics(t)
	if v := got[errorsKey("t1", "exception_2")]; v != 0 {
		t.Errorf("exception_2 counted %v times, want 0", v)
	}
	if got[upKey("t1")] != 1 {
		t.Errorf("terminal not up")
	}
	if v := got[key("mine_power_current_amperes", "mine_id", mineID, "terminal", "t1", "machine", "t1", "phase", "L1")]; v != 100 {
		t.Errorf("current = %v, want 100", v)
	}
}

func TestFaultExceptionCountedByCode(t *testing.T) {
	mine, clock := simMine(t, sim.StateProducing)
	g := startGateway(t, sim.FramingTCP, simUnit(t, 1, "eastron_sdm630", registry.MachineHoist, mine, clock))
	r := newRig(t, oneGateway(g, sim.FramingTCP, "eastron_sdm630", 2*time.Second, 1), nil)
	r.src.PollOnce()

	g.SetFaults(1, []sim.Fault{{Kind: sim.FaultException, Code: 11}})
	r.src.PollOnce()
	r.src.PollOnce()
	got := r.metrics(t)
	if v := got[errorsKey("t1", "exception_11")]; v != 2 {
		t.Errorf("exception_11 counted %v times, want 2", v)
	}
	if got[upKey("t1")] != 0 {
		t.Errorf("terminal up after exceptions, want down")
	}
	if c := g.Connections(); c != 1 {
		t.Errorf("%d connections, want 1: an exception is a valid reply and keeps the connection", c)
	}

	g.SetFaults(1, nil)
	r.src.PollOnce()
	if r.metrics(t)[upKey("t1")] != 1 {
		t.Errorf("terminal down after the exceptions stopped")
	}
}

// TestFaultTimeoutReopensConnection sends one reply after the timeout. The
// poller must drop the connection, or the late reply would be read as the reply
// to the next request.
func TestFaultTimeoutReopensConnection(t *testing.T) {
	for _, framing := range []string{sim.FramingTCP, sim.FramingRTUOverTCP} {
		t.Run(framing, func(t *testing.T) {
			unit := sim.NewStaticUnit()
			unit.SetWords("input", 6, 0x42C8, 0) // 100 A
			g := startGateway(t, framing, sim.GatewayUnit{ID: 1, Source: unit})
			mapPath := writeFile(t, "i.yml", `
registers: [{name: i1, address: 6, table: input, type: float32, quantity: current_amperes, phase: L1}]`)
			r := newRig(t, oneGateway(g, framing, mapPath, 300*time.Millisecond, 1), nil)
			r.src.PollOnce()

			g.SetFaults(1, []sim.Fault{{Kind: sim.FaultSlow, Delay: 900 * time.Millisecond}})
			r.src.PollOnce()
			g.SetFaults(1, nil)
			unit.SetWords("input", 6, 0x4348, 0) // 200 A

			r.src.PollOnce()
			got := r.metrics(t)
			if v := got[errorsKey("t1", "timeout")]; v != 1 {
				t.Errorf("timeout counted %v times, want 1", v)
			}
			if c := g.Connections(); c != 2 {
				t.Errorf("%d connections, want 2: the connection is reopened after the timeout", c)
			}
			if v := got[key("mine_power_current_amperes", "mine_id", mineID, "terminal", "t1", "machine", "t1", "phase", "L1")]; v != 200 {
				t.Errorf("current after the timeout = %v, want the new 200", v)
			}
			if got[upKey("t1")] != 1 {
				t.Errorf("terminal down after recovery")
			}
		})
	}
}

func TestFaultResetAndGarbage(t *testing.T) {
	cases := []struct {
		kind, reason string
	}{
		{sim.FaultReset, "connection_reset"},
		{sim.FaultGarbage, "invalid_response"},
	}
	for _, framing := range []string{sim.FramingTCP, sim.FramingRTUOverTCP} {
		for _, tc := range cases {
			t.Run(framing+"/"+tc.kind, func(t *testing.T) {
				mine, clock := simMine(t, sim.StateProducing)
				g := startGateway(t, framing, simUnit(t, 1, "eastron_sdm630", registry.MachineBelt, mine, clock))
				r := newRig(t, oneGateway(g, framing, "eastron_sdm630", time.Second, 1), nil)
				r.src.PollOnce()

				g.SetFaults(1, []sim.Fault{{Kind: tc.kind}})
				r.src.PollOnce()
				g.SetFaults(1, nil)
				r.src.PollOnce()

				got := r.metrics(t)
				if v := got[errorsKey("t1", tc.reason)]; v != 1 {
					t.Errorf("%s counted %v times, want 1; metrics: %v", tc.reason, v, errorLines(got))
				}
				if got[upKey("t1")] != 1 {
					t.Errorf("terminal down after recovery")
				}
				if c := g.Connections(); c != 2 {
					t.Errorf("%d connections, want 2", c)
				}
				v := got[key("mine_power_voltage_volts", "mine_id", mineID, "terminal", "t1", "machine", "t1", "phase", "L1")]
				if v < 300 || v > 460 {
					t.Errorf("voltage after recovery = %v, want about 381", v)
				}
			})
		}
	}
}

func errorLines(m map[string]float64) []string {
	var out []string
	for k, v := range m {
		if strings.HasPrefix(k, "mine_source_errors_total") {
			out = append(out, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return out
}

// TestDeadTerminalIsolation runs a gateway whose terminal never replies
// next to a healthy one: the healthy one keeps its interval.
func TestDeadTerminalIsolation(t *testing.T) {
	mine, clock := simMine(t, sim.StateProducing)
	dead := startGateway(t, sim.FramingTCP, simUnit(t, 1, "eastron_sdm630", registry.MachineHoist, mine, clock))
	dead.SetFaults(1, []sim.Fault{{Kind: sim.FaultSilent}})
	live := startGateway(t, sim.FramingTCP, simUnit(t, 2, "eastron_sdm630", registry.MachineBelt, mine, clock))

	cfg := &power.Config{Interval: 50 * time.Millisecond, Timeout: 2 * time.Second, Gateways: []power.Gateway{
		{Name: "dead", MineID: mineID, Address: dead.Addr(), Terminals: []power.Terminal{{Name: "t1", UnitID: 1, Map: "eastron_sdm630"}}},
		{Name: "live", MineID: mineID, Address: live.Addr(), Terminals: []power.Terminal{{Name: "t2", UnitID: 2, Map: "eastron_sdm630"}}},
	}}
	r := newRig(t, cfg, nil)
	ctx, cancel := contextWithCleanup(t)
	done := make(chan error, 1)
	go func() { done <- r.src.Run(ctx) }()

	start := time.Now()
	eventually(t, "the dead terminal times out", func() bool { return r.metrics(t)[errorsKey("t1", "timeout")] >= 1 })
	elapsed := time.Since(start)
	// While the dead terminal waited 2 s for its reply, the live one was
	// polled every 50 ms; allow for a loaded machine.
	if n := live.Requests(2); n < 10 {
		t.Errorf("live terminal polled %d times in %s, want at least 10", n, elapsed)
	}
	if r.metrics(t)[upKey("t2")] != 1 {
		t.Errorf("live terminal not up")
	}
	cancel()
	<-done
}

// TestStaleValuesDropped stops a terminal replying: its series must end
// after stale_after instead of freezing at the last value.
func TestStaleValuesDropped(t *testing.T) {
	mine, clock := simMine(t, sim.StateProducing)
	g := startGateway(t, sim.FramingTCP, simUnit(t, 1, "eastron_sdm630", registry.MachineHoist, mine, clock))
	cfg := oneGateway(g, sim.FramingTCP, "eastron_sdm630", 100*time.Millisecond, 1)
	cfg.Interval = 50 * time.Millisecond
	cfg.StaleAfter = 400 * time.Millisecond
	r := newRig(t, cfg, registryFor(t, "{terminal: t1, name: main_hoist, class: hoist, idle_threshold_amperes: 10}"))
	ctx, cancel := contextWithCleanup(t)
	done := make(chan error, 1)
	go func() { done <- r.src.Run(ctx) }()

	current := key("mine_power_current_amperes", "mine_id", mineID, "terminal", "t1", "machine", "main_hoist", "phase", "L1")
	running := key("mine_machine_running", "mine_id", mineID, "terminal", "t1", "machine", "main_hoist")
	eventually(t, "values arrive", func() bool {
		m := r.metrics(t)
		_, ok1 := m[current]
		_, ok2 := m[running]
		return ok1 && ok2
	})
	g.SetFaults(1, []sim.Fault{{Kind: sim.FaultSilent}})
	eventually(t, "the silent terminal's series end", func() bool {
		m := r.metrics(t)
		_, ok1 := m[current]
		_, ok2 := m[running]
		return !ok1 && !ok2
	})
	if r.metrics(t)[upKey("t1")] != 0 {
		t.Errorf("silent terminal still up")
	}
	cancel()
	<-done
}

// TestMachineRunningAndOutput maps terminals to machines in the registry:
// a loaded belt runs, its energy feeds the output estimate, and a stopped
// belt does not run.
func TestMachineRunningAndOutput(t *testing.T) {
	producing, clock := simMine(t, sim.StateProducing)
	stopped, _ := simMine(t, sim.StateMaintenanceStop)
	g := startGateway(t, sim.FramingTCP,
		simUnit(t, 1, "chint_dtsu666", registry.MachineBelt, producing, clock),
		simUnit(t, 2, "chint_dtsu666", registry.MachineBelt, stopped, clock))
	cfg := oneGateway(g, sim.FramingTCP, "chint_dtsu666", 2*time.Second, 1, 2)
	cfg.BeltTonnesPerKWh = map[string]float64{mineID: 0.5}
	r := newRig(t, cfg, registryFor(t,
		"{terminal: t1, name: main_belt, class: belt, idle_threshold_amperes: 20}",
		"{terminal: t2, name: aux_belt, class: belt, idle_threshold_amperes: 20}"))
	r.src.PollOnce()
	time.Sleep(200 * time.Millisecond)
	r.src.PollOnce()

	got := r.metrics(t)
	if v := got[key("mine_machine_running", "mine_id", mineID, "terminal", "t1", "machine", "main_belt")]; v != 1 {
		t.Errorf("loaded belt running = %v, want 1", v)
	}
	if v := got[key("mine_machine_running", "mine_id", mineID, "terminal", "t2", "machine", "aux_belt")]; v != 0 {
		t.Errorf("stopped belt running = %v, want 0", v)
	}
	energy := got[key("mine_power_active_energy_joules_total", "mine_id", mineID, "terminal", "t1", "machine", "main_belt")]
	if energy < 1000*3.6e6 {
		t.Errorf("energy = %v J, want at least the 1000 kWh start reading", energy)
	}
	if v := got[key("mine_output_tonnes_total", "mine_id", mineID, "source", "belt_energy")]; v <= 0 {
		t.Errorf("output estimate = %v t, want positive after the belt drew energy", v)
	}
	if _, ok := got[key("mine_feed_last_data_timestamp_seconds", "mine_id", mineID, "feed", "power:gw")]; !ok {
		t.Errorf("feed timestamp missing")
	}
}

// TestConcurrentScrapesWhilePolling serves /metrics to 200 concurrent
// scrapes while ten terminals are polled; run it under -race.
func TestConcurrentScrapesWhilePolling(t *testing.T) {
	mine, clock := simMine(t, sim.StateProducing)
	var units []sim.GatewayUnit
	var ids []int
	for i := 1; i <= 10; i++ {
		units = append(units, simUnit(t, i, "eastron_sdm630", registry.MachineHoist, mine, clock))
		ids = append(ids, i)
	}
	g := startGateway(t, sim.FramingTCP, units...)
	cfg := oneGateway(g, sim.FramingTCP, "eastron_sdm630", 2*time.Second, ids...)
	cfg.Interval = 10 * time.Millisecond
	// Ten terminals share one connection; under -race a round can take
	// longer than three 10 ms intervals, so keep values longer.
	cfg.StaleAfter = 10 * time.Second
	r := newRig(t, cfg, registryFor(t, "{terminal: t1, name: main_hoist, class: hoist, idle_threshold_amperes: 10}"))
	ctx, cancel := contextWithCleanup(t)
	done := make(chan error, 1)
	go func() { done <- r.src.Run(ctx) }()
	eventually(t, "first values", func() bool { return r.metrics(t)[upKey("t10")] == 1 })

	srv := httptest.NewServer(promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				errs <- err
				return
			}
			if resp.StatusCode != 200 || !strings.Contains(string(body), "mine_power_current_amperes") {
				errs <- fmt.Errorf("scrape returned %d without power metrics", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cancel()
	<-done
}
