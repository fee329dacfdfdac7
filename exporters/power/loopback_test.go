package power_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/health"
	"github.com/minewatch/minewatch/exporters/power"
	"github.com/minewatch/minewatch/exporters/registry"
	"github.com/minewatch/minewatch/exporters/sim"
)

const mineID = "320382000202"

// rig is a power source under test with its own metrics registry.
type rig struct {
	src *power.Source
	reg *prometheus.Registry
}

func newRig(t testing.TB, cfg *power.Config, mines *registry.Registry) *rig {
	t.Helper()
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("invalid config: %v", err)
	}
	reg := prometheus.NewRegistry()
	h := health.New(reg)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	src := power.New(cfg, registry.NewHolder(mines), h, logger, nil)
	if err := src.Register(reg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return &rig{src: src, reg: reg}
}

// metrics returns every sample as "name{label=value,...}" -> value, labels
// sorted by name.
func (r *rig) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := r.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			v := m.GetGauge().GetValue()
			if m.Counter != nil {
				v = m.GetCounter().GetValue()
			}
			out[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}

// key builds a metrics() key from alternating label names and values.
func key(name string, kv ...string) string {
	var labels []string
	for i := 0; i+1 < len(kv); i += 2 {
		labels = append(labels, kv[i]+"="+kv[i+1])
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

func errorsKey(terminal, reason string) string {
	return key("mine_source_errors_total", "mine_id", mineID, "source", "power", "target", terminal, "reason", reason)
}

func upKey(terminal string) string {
	return key("mine_source_up", "mine_id", mineID, "source", "power", "target", terminal)
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startGateway(t *testing.T, framing string, units ...sim.GatewayUnit) *sim.PowerGateway {
	t.Helper()
	g, err := sim.StartPowerGateway("gw", "127.0.0.1:0", framing, units)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func protocolOf(framing string) string {
	if framing == sim.FramingRTUOverTCP {
		return power.ProtocolRTUOverTCP
	}
	return power.ProtocolTCP
}

// wireWords lays out a big-endian number as registers in the given
// orders: the test's own oracle, independent of the package's code.
func wireWords(t *testing.T, bigHex, wordOrder, byteOrder string) []uint16 {
	t.Helper()
	b, err := hex.DecodeString(bigHex)
	if err != nil {
		t.Fatal(err)
	}
	var words []uint16
	for i := 0; i < len(b); i += 2 {
		hi, lo := b[i], b[i+1]
		if byteOrder == power.OrderLittle {
			hi, lo = lo, hi
		}
		words = append(words, uint16(hi)<<8|uint16(lo))
	}
	if wordOrder == power.OrderLittle {
		slices.Reverse(words)
	}
	return words
}

func writeFile(t *testing.T, name, text string) string { return writeFileB(t, name, text) }

func writeFileB(t testing.TB, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPollEveryTypeAndOrder reads one value of each type in each of the
// four word and byte orders, over Modbus TCP and RTU over TCP, from
// registers laid out by the test's oracle.
func TestPollEveryTypeAndOrder(t *testing.T) {
	type value struct {
		typ, bigHex, quantity, phase, table string
		addr                                uint16
		scale                               float64
		want                                float64
	}
	values := []value{
		{"int16", "fb2e", "voltage_volts", "L1", "holding", 0, 0.1, -123.4},
		{"uint16", "d431", "voltage_volts", "L2", "holding", 1, 1, 54321},
		{"int32", "f8a432eb", "current_amperes", "L1", "holding", 2, 0.001, -123456.789},
		{"uint32", "b2d05e00", "current_amperes", "L2", "input", 10, 1, 3000000000},
		{"float32", "449a5000", "active_watts", "", "input", 12, 1, 1234.5},
		{"float64", "c0f81cd6e9e1b08a", "frequency_hertz", "", "input", 14, 1, -98765.4321},
	}
	orders := [][2]string{{"big", "big"}, {"little", "big"}, {"big", "little"}, {"little", "little"}}

	for _, framing := range []string{sim.FramingTCP, sim.FramingRTUOverTCP} {
		t.Run(framing, func(t *testing.T) {
			var units []sim.GatewayUnit
			cfg := &power.Config{Interval: time.Second, Timeout: 2 * time.Second}
			gwCfg := power.Gateway{Name: "gw", MineID: mineID, Protocol: protocolOf(framing)}
			for i, o := range orders {
				unit := sim.NewStaticUnit()
				var regs []string
				for _, v := range values {
					unit.SetWords(v.table, v.addr, wireWords(t, v.bigHex, o[0], o[1])...)
					phase := ""
					if v.phase != "" {
						phase = ", phase: " + v.phase
					}
					regs = append(regs, fmt.Sprintf("  - {name: %s, address: %d, table: %s, type: %s, scale: %v, quantity: %s%s}",
						v.typ, v.addr, v.table, v.typ, v.scale, v.quantity, phase))
				}
				unit.SetBit("coil", 3, true)
				regs = append(regs, "  - {name: breaker, address: 3, table: coil, quantity: breaker_closed}")
				mapPath := writeFile(t, fmt.Sprintf("order%d.yml", i), fmt.Sprintf(
					"defaults: {word_order: %s, byte_order: %s}\nregisters:\n%s\n", o[0], o[1], strings.Join(regs, "\n")))
				units = append(units, sim.GatewayUnit{ID: uint8(i + 1), Source: unit})
				gwCfg.Terminals = append(gwCfg.Terminals, power.Terminal{
					Name: fmt.Sprintf("t%d", i+1), UnitID: i + 1, Map: mapPath})
			}
			g := startGateway(t, framing, units...)
			gwCfg.Address = g.Addr()
			cfg.Gateways = []power.Gateway{gwCfg}
			r := newRig(t, cfg, nil)

			// Holding, input and coil reads per terminal.
			if n := r.src.PollOnce(); n != 3*int64(len(orders)) {
				t.Errorf("poll sent %d requests, want %d", n, 3*len(orders))
			}
			got := r.metrics(t)
			names := map[string]string{
				"voltage_volts": "mine_power_voltage_volts", "current_amperes": "mine_power_current_amperes",
				"active_watts": "mine_power_active_watts", "frequency_hertz": "mine_power_frequency_hertz",
			}
			for i, o := range orders {
				term := fmt.Sprintf("t%d", i+1)
				for _, v := range values {
					kv := []string{"mine_id", mineID, "terminal", term, "machine", term}
					if v.phase != "" {
						kv = append(kv, "phase", v.phase)
					}
					k := key(names[v.quantity], kv...)
					gotV, ok := got[k]
					if !ok {
						t.Errorf("word %s byte %s: %s missing", o[0], o[1], k)
						continue
					}
					if math.Abs(gotV-v.want) > 1e-6*math.Max(1, math.Abs(v.want)) {
						t.Errorf("word %s byte %s: %s = %v, want %v", o[0], o[1], v.typ, gotV, v.want)
					}
				}
				breaker := key("mine_power_breaker_closed", "mine_id", mineID, "terminal", term, "machine", term)
				if got[breaker] != 1 {
					t.Errorf("%s = %v, want 1", breaker, got[breaker])
				}
			}
		})
	}
}

func contextWithCleanup(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}
