package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/minewatch/minewatch/exporters/registry"
)

// Framings a simulated gateway speaks on its listening port.
const (
	FramingTCP        = "tcp"
	FramingRTUOverTCP = "rtu_over_tcp"
)

// Fault kinds a simulated terminal can inject.
const (
	// FaultException replies with Modbus exception Code.
	FaultException = "exception"
	// FaultSlow replies after Delay.
	FaultSlow = "slow"
	// FaultReset closes the connection with a TCP reset instead of replying.
	FaultReset = "reset"
	// FaultGarbage replies with a broken frame: a stale transaction id on
	// Modbus TCP, a bad CRC on RTU.
	FaultGarbage = "garbage"
	// FaultSilent never replies, like a terminal that lost power.
	FaultSilent = "silent"
)

var faultKinds = []string{FaultException, FaultSlow, FaultReset, FaultGarbage, FaultSilent}

// PowerSection is the power section of a mine in a scenario file: the
// Modbus gateways minesim serves for the mine.
type PowerSection struct {
	Gateways []PowerGatewayConfig `yaml:"gateways"`
}

// PowerGatewayConfig is one simulated gateway: one listening port.
type PowerGatewayConfig struct {
	Name string `yaml:"name"`
	// Listen is host:port, for example 127.0.0.1:15020.
	Listen string `yaml:"listen"`
	// Framing is tcp (default) or rtu_over_tcp.
	Framing   string                `yaml:"framing"`
	Terminals []PowerTerminalConfig `yaml:"terminals"`
}

// PowerTerminalConfig is one simulated power terminal behind a gateway.
type PowerTerminalConfig struct {
	Terminal string `yaml:"terminal"`
	// UnitID is the Modbus unit id. Default 1.
	UnitID int `yaml:"unit_id"`
	// Map is a register map file (relative to the scenario file) or a
	// built-in map name.
	Map string `yaml:"map"`
	// Class is the machine class whose load the terminal plays: hoist,
	// belt, main_fan, drainage, substation or other.
	Class string `yaml:"class"`
	// LineVolts is the line-to-line supply voltage. Default 660.
	LineVolts float64 `yaml:"line_volts"`
	// EnergyKWh is the meter reading at the scenario start.
	EnergyKWh float64 `yaml:"energy_kwh"`
	Faults    []Fault `yaml:"faults"`
}

// Fault makes a terminal misbehave on some of its requests.
type Fault struct {
	Kind string `yaml:"kind"`
	// Code is the exception code of FaultException. Default 11 (gateway
	// target device failed to respond).
	Code int `yaml:"code"`
	// Delay is the reply delay of FaultSlow.
	Delay time.Duration `yaml:"delay"`
	// Every applies the fault to every Nth request of the terminal.
	// Default 1: every request.
	Every int `yaml:"every"`
	// States limits the fault to times when one of these states holds.
	States []string `yaml:"states"`
}

// SetDefaults fills the defaults of a power section.
func (p *PowerSection) SetDefaults() {
	for i := range p.Gateways {
		g := &p.Gateways[i]
		if g.Framing == "" {
			g.Framing = FramingTCP
		}
		for j := range g.Terminals {
			t := &g.Terminals[j]
			if t.UnitID == 0 {
				t.UnitID = 1
			}
			if t.LineVolts == 0 {
				t.LineVolts = 660
			}
			for k := range t.Faults {
				f := &t.Faults[k]
				if f.Every == 0 {
					f.Every = 1
				}
				if f.Kind == FaultException && f.Code == 0 {
					f.Code = 11
				}
			}
		}
	}
}

// Validate checks a power section after SetDefaults.
func (p *PowerSection) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	classes := []string{registry.MachineHoist, registry.MachineBelt, registry.MachineMainFan,
		registry.MachineDrainage, registry.MachineSubstation, registry.MachineOther}
	for i, g := range p.Gateways {
		where := fmt.Sprintf("power.gateways[%d] (%s)", i, g.Name)
		if g.Listen == "" {
			add("%s: listen is missing", where)
		}
		if g.Framing != FramingTCP && g.Framing != FramingRTUOverTCP {
			add("%s: framing %q is invalid, expected tcp or rtu_over_tcp", where, g.Framing)
		}
		units := map[int]bool{}
		for j, t := range g.Terminals {
			twhere := fmt.Sprintf("%s: terminals[%d] (%s)", where, j, t.Terminal)
			if t.Terminal == "" {
				add("%s: terminal is missing", twhere)
			}
			if t.UnitID < 1 || t.UnitID > 247 {
				add("%s: unit_id %d must be between 1 and 247", twhere, t.UnitID)
			}
			if units[t.UnitID] {
				add("%s: unit_id %d is used twice on the gateway", twhere, t.UnitID)
			}
			units[t.UnitID] = true
			if t.Map == "" {
				add("%s: map is missing", twhere)
			}
			if !slices.Contains(classes, t.Class) {
				add("%s: class %q is invalid, expected one of %s", twhere, t.Class, strings.Join(classes, ", "))
			}
			for k, f := range t.Faults {
				if !slices.Contains(faultKinds, f.Kind) {
					add("%s: faults[%d].kind %q is invalid, expected one of %s",
						twhere, k, f.Kind, strings.Join(faultKinds, ", "))
				}
				if f.Every < 1 {
					add("%s: faults[%d].every must be at least 1", twhere, k)
				}
				if f.Kind == FaultSlow && f.Delay <= 0 {
					add("%s: faults[%d].delay must be positive for a slow fault", twhere, k)
				}
				for _, st := range f.States {
					if !slices.Contains(States, st) {
						add("%s: faults[%d]: unknown state %q", twhere, k, st)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}
