//go:build linux

package power_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minewatch/minewatch/exporters/power"
	"github.com/minewatch/minewatch/exporters/registry"
	"github.com/minewatch/minewatch/exporters/sim"
)

// serialTerminal is a simulated SDM630 on a frozen scenario clock, so
// that the values it serves can be checked exactly.
func serialTerminal(t *testing.T, id int, class string, mine *sim.Mine, clock *sim.Clock) *sim.SimTerminal {
	t.Helper()
	m, err := power.LoadMap("eastron_sdm630")
	if err != nil {
		t.Fatal(err)
	}
	return sim.NewSimTerminal(sim.PowerTerminalConfig{Terminal: "t", UnitID: id, Map: "eastron_sdm630",
		Class: class, LineVolts: 660, EnergyKWh: 1000}, m, mine, clock)
}

// frozenMine is a producing mine whose scenario clock is stopped, so the
// terminals' loads stay put and their meters do not advance. Tests use
// belt and substation terminals, which draw at least 95 A all the time
// while producing (a hoist idles between trips).
func frozenMine(t *testing.T) (*sim.Mine, *sim.Clock) {
	t.Helper()
	mine, clock := simMine(t, sim.StateProducing)
	frozen := time.Now().Add(time.Hour)
	clock.SetWallClock(func() time.Time { return frozen })
	return mine, clock
}

// serialConfig puts terminals t1 and t2 (units 1 and 2, SDM630 map) on
// one rtu gateway at the pty's slave. Odd parity, because the kernel's
// pty driver clears PARENB on every settings change but keeps PARODD:
// only odd parity leaves a trace on a pty.
func serialConfig(p *pty, timeout time.Duration) *power.Config {
	return &power.Config{Interval: time.Second, Gateways: []power.Gateway{{
		Name: "bus", MineID: mineID, Protocol: power.ProtocolRTU, Device: p.slavePath,
		BaudRate: 19200, Parity: "O", StopBits: 2, Timeout: timeout,
		Terminals: []power.Terminal{
			{Name: "t1", UnitID: 1, Map: "eastron_sdm630"},
			{Name: "t2", UnitID: 2, Map: "eastron_sdm630"},
		},
	}}}
}

func within(got, want float64) bool {
	// float32 registers carry about 7 significant digits.
	return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want))
}

// TestSerialRTUReadsTerminals polls two SDM630 terminals on one serial
// port (a pty slave) and checks the decoded values against the
// simulator's electrical state, the batching, and the line settings the
// serial library applied from the config.
func TestSerialRTUReadsTerminals(t *testing.T) {
	p := openPTY(t)
	mine, clock := frozenMine(t)
	substation := serialTerminal(t, 1, registry.MachineSubstation, mine, clock)
	belt := serialTerminal(t, 2, registry.MachineBelt, mine, clock)
	bus := startRTUBus(t, p, map[uint8]sim.UnitSource{1: substation, 2: belt})
	r := newRig(t, serialConfig(p, 2*time.Second), nil)

	for i := range 3 {
		// The SDM630 map is one request of 74 registers per terminal.
		if n := r.src.PollOnce(); n != 2 {
			t.Errorf("poll %d sent %d requests, want 2 (one per terminal)", i+1, n)
		}
	}
	for _, u := range []uint8{1, 2} {
		if n := bus.requestsOf(u); n != 3 {
			t.Errorf("unit %d received %d requests on the line, want 3", u, n)
		}
	}

	// The port is still open: its line settings are those of the config.
	tio := p.termios(t)
	if speed := tio.Cflag & unix.CBAUD; speed != unix.B19200 {
		t.Errorf("line speed flag %#o, want B19200 (%#o)", speed, unix.B19200)
	}
	if tio.Cflag&unix.CSIZE != unix.CS8 {
		t.Errorf("character size flag %#o, want CS8", tio.Cflag&unix.CSIZE)
	}
	if tio.Cflag&unix.PARODD == 0 {
		t.Errorf("odd parity (PARODD) not set")
	}
	if tio.Cflag&unix.CSTOPB == 0 {
		t.Errorf("two stop bits (CSTOPB) not set")
	}

	got := r.metrics(t)
	for _, tc := range []struct {
		term string
		st   *sim.SimTerminal
	}{{"t1", substation}, {"t2", belt}} {
		e := tc.st.Electrical(clock.Elapsed())
		if e.Currents[0] < 50 {
			t.Fatalf("%s: simulated load %v A is too small to tell apart from zeros", tc.term, e.Currents[0])
		}
		for k, phase := range []string{"L1", "L2", "L3"} {
			kv := []string{"mine_id", mineID, "terminal", tc.term, "machine", tc.term, "phase", phase}
			for name, want := range map[string]float64{
				"mine_power_voltage_volts":      e.PhaseVolts,
				"mine_power_current_amperes":    e.Currents[k],
				"mine_power_phase_active_watts": e.PhaseVolts * e.Currents[k] * e.PowerFactor,
			} {
				v, ok := got[key(name, kv...)]
				if !ok || !within(v, want) {
					t.Errorf("%s %s %s = %v (present %v), want %v", tc.term, name, phase, v, ok, want)
				}
			}
		}
		kv := []string{"mine_id", mineID, "terminal", tc.term, "machine", tc.term}
		for name, want := range map[string]float64{
			"mine_power_active_watts":               e.ActiveWatts(),
			"mine_power_factor_ratio":               e.PowerFactor,
			"mine_power_frequency_hertz":            e.Hertz,
			"mine_power_active_energy_joules_total": 1000 * 3.6e6, // 1000 kWh, clock frozen
		} {
			v, ok := got[key(name, kv...)]
			if !ok || !within(v, want) {
				t.Errorf("%s %s = %v (present %v), want %v", tc.term, name, v, ok, want)
			}
		}
		if got[upKey(tc.term)] != 1 {
			t.Errorf("%s not up", tc.term)
		}
	}
	bus.check(t)
}

// TestSerialBusOneRequestAtATime polls two terminals on one port every
// 10 ms while each reply takes 20 ms: their schedules collide all the
// time, and no request may go out while another awaits its reply.
func TestSerialBusOneRequestAtATime(t *testing.T) {
	p := openPTY(t)
	mine, clock := frozenMine(t)
	bus := startRTUBus(t, p, map[uint8]sim.UnitSource{
		1: serialTerminal(t, 1, registry.MachineSubstation, mine, clock),
		2: serialTerminal(t, 2, registry.MachineBelt, mine, clock),
	})
	bus.replyDelay = 20 * time.Millisecond
	cfg := serialConfig(p, 2*time.Second)
	cfg.Interval = 10 * time.Millisecond
	cfg.StaleAfter = 10 * time.Second
	r := newRig(t, cfg, nil)

	ctx, cancel := contextWithCleanup(t)
	done := make(chan error, 1)
	go func() { done <- r.src.Run(ctx) }()
	eventually(t, "both units answer ten requests", func() bool {
		return bus.requestsOf(1) >= 10 && bus.requestsOf(2) >= 10
	})
	cancel()
	<-done

	bus.check(t)
	got := r.metrics(t)
	for _, term := range []string{"t1", "t2"} {
		if got[upKey(term)] != 1 {
			t.Errorf("%s not up", term)
		}
	}
	if lines := errorLines(got); len(lines) != 0 {
		t.Errorf("errors counted on a healthy bus: %v", lines)
	}
}

// TestSerialSilentUnitTimesOut leaves unit 2 silent, like a meter that
// lost power: its reads time out, and unit 1 on the same line is still
// read, also right after the port was reopened.
func TestSerialSilentUnitTimesOut(t *testing.T) {
	p := openPTY(t)
	mine, clock := frozenMine(t)
	bus := startRTUBus(t, p, map[uint8]sim.UnitSource{
		1: serialTerminal(t, 1, registry.MachineSubstation, mine, clock),
		2: serialTerminal(t, 2, registry.MachineBelt, mine, clock),
	})
	bus.setSilent(2, true)
	r := newRig(t, serialConfig(p, 300*time.Millisecond), nil)

	// Each poll reads t1 and then times out on t2. The second t1 read
	// follows the timeout and the reopening of the port.
	r.src.PollOnce()
	r.src.PollOnce()
	got := r.metrics(t)
	if v := got[errorsKey("t2", "timeout")]; v != 2 {
		t.Errorf("t2 timeouts counted %v, want 2; errors: %v", v, errorLines(got))
	}
	if got[upKey("t2")] != 0 {
		t.Errorf("silent t2 up, want down")
	}
	if got[upKey("t1")] != 1 {
		t.Errorf("t1 down next to a silent unit, want up")
	}
	if lines := errorLines(got); len(lines) != 1 {
		t.Errorf("errors other than t2's timeouts counted: %v", lines)
	}
	if n := bus.requestsOf(1); n != 2 {
		t.Errorf("unit 1 received %d requests, want 2", n)
	}
	current := key("mine_power_current_amperes", "mine_id", mineID, "terminal", "t1", "machine", "t1", "phase", "L1")
	if v := got[current]; v < 100 {
		t.Errorf("t1 current = %v, want the substation's load", v)
	}

	bus.setSilent(2, false)
	r.src.PollOnce()
	if r.metrics(t)[upKey("t2")] != 1 {
		t.Errorf("t2 down after it replied again")
	}
	bus.check(t)
}

// TestSerialBrokenCRCCounted corrupts the CRC of one reply of unit 1: the
// read fails as invalid_response, unit 2 is still read in the same poll,
// and unit 1 recovers on the next one.
func TestSerialBrokenCRCCounted(t *testing.T) {
	p := openPTY(t)
	mine, clock := frozenMine(t)
	bus := startRTUBus(t, p, map[uint8]sim.UnitSource{
		1: serialTerminal(t, 1, registry.MachineSubstation, mine, clock),
		2: serialTerminal(t, 2, registry.MachineBelt, mine, clock),
	})
	r := newRig(t, serialConfig(p, time.Second), nil)
	r.src.PollOnce()

	bus.corruptNext(1, 1)
	r.src.PollOnce()
	got := r.metrics(t)
	if v := got[errorsKey("t1", "invalid_response")]; v != 1 {
		t.Errorf("invalid_response counted %v times, want 1; errors: %v", v, errorLines(got))
	}
	if got[upKey("t1")] != 0 {
		t.Errorf("t1 up after a broken reply, want down")
	}
	if got[upKey("t2")] != 1 {
		t.Errorf("t2 down after t1's broken reply, want up")
	}

	r.src.PollOnce()
	got = r.metrics(t)
	if got[upKey("t1")] != 1 {
		t.Errorf("t1 down after a good reply")
	}
	if lines := errorLines(got); len(lines) != 1 {
		t.Errorf("errors other than the broken CRC counted: %v", lines)
	}
	bus.check(t)
}

// TestSerialExceptionCounted makes unit 1 reply with exception 2 (illegal
// data address): the reply is a valid frame, counted by its code.
func TestSerialExceptionCounted(t *testing.T) {
	p := openPTY(t)
	mine, clock := frozenMine(t)
	bus := startRTUBus(t, p, map[uint8]sim.UnitSource{
		1: serialTerminal(t, 1, registry.MachineSubstation, mine, clock),
		2: serialTerminal(t, 2, registry.MachineBelt, mine, clock),
	})
	bus.setException(1, 2)
	r := newRig(t, serialConfig(p, time.Second), nil)
	r.src.PollOnce()
	r.src.PollOnce()

	got := r.metrics(t)
	if v := got[errorsKey("t1", "exception_2")]; v != 2 {
		t.Errorf("exception_2 counted %v times, want 2; errors: %v", v, errorLines(got))
	}
	if got[upKey("t2")] != 1 {
		t.Errorf("t2 down next to a unit that replies with exceptions")
	}
	if lines := errorLines(got); len(lines) != 1 {
		t.Errorf("errors other than the exceptions counted: %v", lines)
	}
	bus.check(t)
}

// TestSerialMissingPortCounted polls a gateway whose serial port does not
// exist: the failure is counted as connect_failed, not as a bad reply.
func TestSerialMissingPortCounted(t *testing.T) {
	cfg := &power.Config{Interval: time.Second, Gateways: []power.Gateway{{
		Name: "bus", MineID: mineID, Protocol: power.ProtocolRTU,
		Device: filepath.Join(t.TempDir(), "ttyUSB9"), BaudRate: 9600, Timeout: 200 * time.Millisecond,
		Terminals: []power.Terminal{{Name: "t1", UnitID: 1, Map: "eastron_sdm630"}},
	}}}
	r := newRig(t, cfg, nil)
	r.src.PollOnce()
	got := r.metrics(t)
	if v := got[errorsKey("t1", "connect_failed")]; v != 1 {
		t.Errorf("t1 connect_failed counted %v, want 1; errors: %v", v, errorLines(got))
	}
	if got[upKey("t1")] != 0 {
		t.Errorf("t1 up on a missing port, want down")
	}
}

func TestSerialConfigRejectsSharedPortAndOddBaudRate(t *testing.T) {
	gateway := func(name string, baud int) power.Gateway {
		return power.Gateway{Name: name, MineID: mineID, Protocol: power.ProtocolRTU,
			Device: "/dev/ttyUSB0", BaudRate: baud,
			Terminals: []power.Terminal{{Name: name + "-t", UnitID: 1, Map: "eastron_sdm630"}}}
	}
	cases := []struct {
		name     string
		gateways []power.Gateway
		want     string
	}{
		{"shared port", []power.Gateway{gateway("a", 9600), gateway("b", 9600)},
			"device /dev/ttyUSB0 is already used by gateway a"},
		{"odd baud rate", []power.Gateway{gateway("a", 14400)},
			"baud_rate 14400 is not a standard rate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := &power.Config{Gateways: c.gateways}
			cfg.SetDefaults()
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate returned no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}
