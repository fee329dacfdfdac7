package sim

import (
	"hash/fnv"
	"math"
	"slices"
	"sync"
	"time"

	smodbus "github.com/simonvetter/modbus"

	"github.com/minewatch/minewatch/exporters/power"
	"github.com/minewatch/minewatch/exporters/registry"
)

// Electrical is the state of a simulated terminal at one moment.
type Electrical struct {
	// Currents of L1, L2, L3 in amperes.
	Currents [3]float64
	// PhaseVolts is the line-to-neutral voltage.
	PhaseVolts  float64
	PowerFactor float64
	Hertz       float64
}

// ActiveWatts returns the total active power.
func (e Electrical) ActiveWatts() float64 {
	return e.PhaseVolts * (e.Currents[0] + e.Currents[1] + e.Currents[2]) * e.PowerFactor
}

// MachineCurrent returns the load current of a machine class in the given
// states, elapsed scenario time after the start. seed (0 to 1) shifts
// each terminal's cycles. Figures are typical steady currents of a
// mid-size coal mine: hoist 150-400 A hoisting and under 10 A idle, belt
// 80-250 A loaded, main fan 60-120 A, drainage pumps 30-90 A cycling
// with the sump.
func MachineCurrent(class string, states []string, elapsed time.Duration, seed float64) float64 {
	producing := slices.Contains(states, StateProducing) || slices.Contains(states, StateSecretNightWork)
	sec := elapsed.Seconds()
	wave := func(period float64) float64 { return math.Sin(2 * math.Pi * (sec/period + seed)) }
	switch class {
	case registry.MachineHoist:
		// A trip every 120 s: 80 s of hoisting, then 40 s loading the skip.
		if producing && math.Mod(sec+seed*120, 120) < 80 {
			return 280 + 90*wave(37)
		}
		return 6 + wave(50)
	case registry.MachineBelt:
		if producing {
			return 165 + 70*wave(300)
		}
		return 0
	case registry.MachineMainFan:
		if slices.Contains(states, StateFanStopped) {
			return 0
		}
		return 90 + 20*wave(900)
	case registry.MachineDrainage:
		if slices.Contains(states, StatePumpsStopped) {
			return 0
		}
		// Pumps run 50 minutes of every two hours as the sump fills.
		if math.Mod(sec+seed*7200, 7200) < 3000 {
			return 60 + 25*wave(600)
		}
		return 0
	case registry.MachineSubstation:
		if producing {
			return 650 + 80*wave(600)
		}
		return 300 + 30*wave(600)
	default:
		return 20 + 2*wave(60)
	}
}

// SimTerminal serves the registers of one simulated terminal from its map
// and its machine class's load in the mine's current states.
type SimTerminal struct {
	cfg   PowerTerminalConfig
	m     *power.Map
	mine  *Mine
	clock *Clock
	seed  float64

	mu      sync.Mutex
	energyJ float64
	last    time.Duration
	started bool
}

// NewSimTerminal builds a terminal that plays mine's timeline on clock.
func NewSimTerminal(cfg PowerTerminalConfig, m *power.Map, mine *Mine, clock *Clock) *SimTerminal {
	h := fnv.New32a()
	h.Write([]byte(mine.ID + "/" + cfg.Terminal))
	return &SimTerminal{cfg: cfg, m: m, mine: mine, clock: clock,
		seed: float64(h.Sum32()%1000) / 1000, energyJ: cfg.EnergyKWh * 3.6e6}
}

// States returns the mine's states now.
func (t *SimTerminal) States() []string { return t.mine.StatesAt(t.clock.Elapsed()) }

// Electrical returns the terminal's state at elapsed scenario time.
func (t *SimTerminal) Electrical(elapsed time.Duration) Electrical {
	states := t.mine.StatesAt(elapsed)
	amps := MachineCurrent(t.cfg.Class, states, elapsed, t.seed)
	e := Electrical{
		PhaseVolts:  t.cfg.LineVolts / math.Sqrt(3) * (1 + 0.01*math.Sin(elapsed.Seconds()/600+t.seed)),
		Hertz:       50 + 0.02*math.Sin(elapsed.Seconds()/90),
		PowerFactor: 1,
	}
	for k := range e.Currents {
		e.Currents[k] = math.Max(0, amps*(1+0.02*math.Sin(t.seed*10+float64(k))))
	}
	if amps > 1 {
		// Loaded motors run near 0.86, idle ones far lower.
		e.PowerFactor = 0.35 + 0.51*math.Min(1, amps/100)
	}
	return e
}

// advance integrates the energy up to now and returns the state now.
func (t *SimTerminal) advance() Electrical {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Elapsed()
	e := t.Electrical(now)
	if t.started && now > t.last {
		t.energyJ += e.ActiveWatts() * (now - t.last).Seconds()
	}
	t.started = true
	t.last = now
	return e
}

func (t *SimTerminal) energy() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.energyJ
}

// quantity returns the value a map register shows for state e.
func (t *SimTerminal) quantity(r *power.Register, e Electrical) float64 {
	phase := map[string]int{"L1": 0, "L2": 1, "L3": 2}
	switch r.Quantity {
	case power.QuantityVoltage:
		if _, ok := phase[r.Phase]; ok {
			return e.PhaseVolts
		}
		return e.PhaseVolts * math.Sqrt(3)
	case power.QuantityCurrent:
		if k, ok := phase[r.Phase]; ok {
			return e.Currents[k]
		}
		return 0 // neutral current of a balanced load
	case power.QuantityPhasePower:
		return e.PhaseVolts * e.Currents[phase[r.Phase]] * e.PowerFactor
	case power.QuantityActivePower:
		return e.ActiveWatts()
	case power.QuantityPowerFactor:
		return e.PowerFactor
	case power.QuantityFrequency:
		return e.Hertz
	case power.QuantityActiveEnergy:
		return t.energy()
	case power.QuantityBreakerClosed:
		if e.Currents[0] > 0 {
			return 1
		}
	}
	return 0
}

// ReadRegisters implements UnitSource.
func (t *SimTerminal) ReadRegisters(table string, addr, count uint16) ([]uint16, error) {
	if err := checkGaps(t.m, table, addr, count); err != nil {
		return nil, err
	}
	e := t.advance()
	words := make([]uint16, count)
	end := int(addr) + int(count)
	for i := range t.m.Registers {
		r := &t.m.Registers[i]
		if r.Table != table || r.Type == power.TypeBool {
			continue
		}
		b := r.Encode(t.quantity(r, e))
		for k := 0; k < int(r.Width()); k++ {
			a := int(r.Address) + k
			if a >= int(addr) && a < end {
				words[a-int(addr)] = uint16(b[2*k])<<8 | uint16(b[2*k+1])
			}
		}
	}
	return words, nil
}

// ReadBits implements UnitSource.
func (t *SimTerminal) ReadBits(table string, addr, count uint16) ([]bool, error) {
	if err := checkGaps(t.m, table, addr, count); err != nil {
		return nil, err
	}
	e := t.advance()
	bits := make([]bool, count)
	for i := range t.m.Registers {
		r := &t.m.Registers[i]
		if r.Table == table && r.Address >= addr && int(r.Address) < int(addr)+int(count) {
			bits[r.Address-addr] = t.quantity(r, e) > 0.5
		}
	}
	return bits, nil
}

// checkGaps rejects a read that touches a gap of the map, as the device
// would, with exception 2.
func checkGaps(m *power.Map, table string, addr, count uint16) error {
	for _, g := range m.Gaps {
		if g.Table == table && int(g.From) < int(addr)+int(count) && int(g.To) >= int(addr) {
			return smodbus.ErrIllegalDataAddress
		}
	}
	return nil
}
