package power

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Gateway protocols.
const (
	// ProtocolTCP is Modbus TCP (MBAP header), to a meter with its own
	// network port or to a TCP-to-RTU gateway.
	ProtocolTCP = "tcp"
	// ProtocolRTUOverTCP sends RTU frames (with CRC) through a transparent
	// serial server.
	ProtocolRTUOverTCP = "rtu_over_tcp"
	// ProtocolRTU is Modbus RTU on a local serial port.
	ProtocolRTU = "rtu"
)

var (
	protocols     = []string{ProtocolTCP, ProtocolRTUOverTCP, ProtocolRTU}
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
	minePattern   = regexp.MustCompile(`^[0-9]{12}$`)
	parityOptions = []string{"N", "E", "O"}
	// baudRates are the rates goburrow/serial v0.1.0 maps to termios
	// constants on Linux; it rejects any other rate when it opens the port.
	baudRates = []int{50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600,
		19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000,
		1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000}
)

// Config is the power section of mine-exporter.yml.
type Config struct {
	// Interval is the default poll interval of a terminal. Default 10s.
	Interval time.Duration `yaml:"interval"`
	// Timeout is the default time limit of one request. Default 2s.
	Timeout time.Duration `yaml:"timeout"`
	// StaleAfter is how long a value is served after its last successful
	// read. Default 0: three poll intervals of its terminal.
	StaleAfter time.Duration `yaml:"stale_after"`
	// BeltTonnesPerKWh turns main-belt energy into an output estimate,
	// per mine code: tonnes carried per kWh drawn by the mine's belt
	// terminals. Mines not listed get no estimate.
	BeltTonnesPerKWh map[string]float64 `yaml:"belt_tonnes_per_kwh"`
	Gateways         []Gateway          `yaml:"gateways"`
}

// Gateway is one connection: a Modbus TCP device or gateway, a serial
// server, or a local serial port. Requests on one gateway go one at a
// time; gateways run in parallel.
type Gateway struct {
	Name   string `yaml:"name"`
	MineID string `yaml:"mine_id"`
	// Protocol is tcp, rtu_over_tcp or rtu. Default tcp.
	Protocol string `yaml:"protocol"`
	// Address is host:port for tcp and rtu_over_tcp.
	Address string `yaml:"address"`
	// Device is the serial port for rtu, for example /dev/ttyUSB0.
	Device   string `yaml:"device"`
	BaudRate int    `yaml:"baud_rate"` // default 9600
	DataBits int    `yaml:"data_bits"` // default 8
	Parity   string `yaml:"parity"`    // N, E or O; default N
	StopBits int    `yaml:"stop_bits"` // default 1
	// Timeout and Interval override the section defaults for the
	// gateway's terminals.
	Timeout   time.Duration `yaml:"timeout"`
	Interval  time.Duration `yaml:"interval"`
	Terminals []Terminal    `yaml:"terminals"`
}

// Terminal is one power meter behind a gateway.
type Terminal struct {
	// Name is the terminal id that the registry maps to a machine.
	Name string `yaml:"name"`
	// UnitID is the Modbus unit (slave) id. Default 1.
	UnitID int `yaml:"unit_id"`
	// Map is a register map file, or the name of a built-in map.
	Map string `yaml:"map"`
	// Interval, Timeout and StaleAfter override the gateway's values.
	Interval   time.Duration `yaml:"interval"`
	Timeout    time.Duration `yaml:"timeout"`
	StaleAfter time.Duration `yaml:"stale_after"`
	// Machine and IdleThresholdAmperes apply when the registry does not
	// map the terminal; the registry wins otherwise.
	Machine              string   `yaml:"machine"`
	IdleThresholdAmperes *float64 `yaml:"idle_threshold_amperes"`

	regMap *Map
}

// SetDefaults fills unset fields with their documented defaults.
func (c *Config) SetDefaults() {
	if c.Interval == 0 {
		c.Interval = 10 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	for i := range c.Gateways {
		g := &c.Gateways[i]
		if g.Protocol == "" {
			g.Protocol = ProtocolTCP
		}
		if g.Timeout == 0 {
			g.Timeout = c.Timeout
		}
		if g.Interval == 0 {
			g.Interval = c.Interval
		}
		if g.Protocol == ProtocolRTU {
			if g.BaudRate == 0 {
				g.BaudRate = 9600
			}
			if g.DataBits == 0 {
				g.DataBits = 8
			}
			if g.Parity == "" {
				g.Parity = "N"
			}
			if g.StopBits == 0 {
				g.StopBits = 1
			}
		}
		for j := range g.Terminals {
			t := &g.Terminals[j]
			if t.UnitID == 0 {
				t.UnitID = 1
			}
			if t.Interval == 0 {
				t.Interval = g.Interval
			}
			if t.Timeout == 0 {
				t.Timeout = g.Timeout
			}
			if t.StaleAfter == 0 {
				t.StaleAfter = c.StaleAfter
			}
			if t.StaleAfter == 0 {
				t.StaleAfter = 3 * t.Interval
			}
		}
	}
}

// Validate checks every field and loads the register maps, so that a
// missing or broken map fails --check-config. It returns every problem
// found.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Interval < 10*time.Millisecond {
		add("interval %s must be at least 10ms", c.Interval)
	}
	if c.Timeout <= 0 {
		add("timeout must be positive")
	}
	for mine, f := range c.BeltTonnesPerKWh {
		if !minePattern.MatchString(mine) {
			add("belt_tonnes_per_kwh key %q must be a 12-digit mine code", mine)
		}
		if f <= 0 {
			add("belt_tonnes_per_kwh[%s] must be positive", mine)
		}
	}

	gatewayNames := map[string]bool{}
	// Two pollers on one serial port would interleave their frames on the
	// bus, so every terminal of a port belongs to one gateway.
	devices := map[string]string{} // device -> gateway
	for i := range c.Gateways {
		g := &c.Gateways[i]
		if g.Protocol != ProtocolRTU || g.Device == "" {
			continue
		}
		if other, ok := devices[g.Device]; ok {
			add("gateways[%d] (%s): device %s is already used by gateway %s; put all terminals of one serial port in one gateway",
				i, g.Name, g.Device, other)
			continue
		}
		devices[g.Device] = g.Name
	}
	terminalNames := map[string]string{} // mine/terminal -> gateway
	maps := map[string]*Map{}
	for i := range c.Gateways {
		g := &c.Gateways[i]
		where := fmt.Sprintf("gateways[%d] (%s)", i, g.Name)
		if !namePattern.MatchString(g.Name) {
			add("%s: name must be letters, digits, '_', '.', ':' or '-'", where)
		}
		if gatewayNames[g.Name] {
			add("%s: name is used twice", where)
		}
		gatewayNames[g.Name] = true
		if !minePattern.MatchString(g.MineID) {
			add("%s: mine_id %q must be a 12-digit mine code (quote it in YAML)", where, g.MineID)
		}
		errs = append(errs, g.validateLink(where)...)
		if len(g.Terminals) == 0 {
			add("%s: terminals is empty", where)
		}
		for j := range g.Terminals {
			t := &g.Terminals[j]
			twhere := fmt.Sprintf("%s: terminals[%d] (%s)", where, j, t.Name)
			if !namePattern.MatchString(t.Name) {
				add("%s: name must be letters, digits, '_', '.', ':' or '-'", twhere)
			}
			key := g.MineID + "/" + t.Name
			if prev, ok := terminalNames[key]; ok {
				add("%s: terminal %s of mine %s is already defined on gateway %s", twhere, t.Name, g.MineID, prev)
			}
			terminalNames[key] = g.Name
			maxUnit := 255
			if g.Protocol != ProtocolTCP {
				maxUnit = 247 // RTU addresses; 0 is broadcast, which gets no reply
			}
			if t.UnitID < 1 || t.UnitID > maxUnit {
				add("%s: unit_id %d must be between 1 and %d", twhere, t.UnitID, maxUnit)
			}
			if t.Interval < 10*time.Millisecond {
				add("%s: interval %s must be at least 10ms", twhere, t.Interval)
			}
			if t.Timeout <= 0 {
				add("%s: timeout must be positive", twhere)
			}
			if t.StaleAfter < t.Interval {
				add("%s: stale_after %s must be at least the interval %s", twhere, t.StaleAfter, t.Interval)
			}
			if t.IdleThresholdAmperes != nil && *t.IdleThresholdAmperes < 0 {
				add("%s: idle_threshold_amperes must not be negative", twhere)
			}
			if t.Map == "" {
				add("%s: map is missing", twhere)
				continue
			}
			m, ok := maps[t.Map]
			if !ok {
				var err error
				if m, err = LoadMap(t.Map); err != nil {
					add("%s: %w", twhere, err)
					continue
				}
				maps[t.Map] = m
			}
			t.regMap = m
		}
	}
	return errors.Join(errs...)
}

func (g *Gateway) validateLink(where string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !slices.Contains(protocols, g.Protocol) {
		add("%s: protocol %q is invalid, expected one of %s", where, g.Protocol, strings.Join(protocols, ", "))
		return errs
	}
	if g.Timeout <= 0 {
		add("%s: timeout must be positive", where)
	}
	if g.Protocol == ProtocolRTU {
		if g.Device == "" {
			add("%s: device is missing, the serial port of protocol rtu", where)
		}
		if g.Address != "" {
			add("%s: address is for tcp and rtu_over_tcp; protocol rtu uses device", where)
		}
		if !slices.Contains(parityOptions, g.Parity) {
			add("%s: parity %q is invalid, expected N, E or O", where, g.Parity)
		}
		if g.DataBits < 5 || g.DataBits > 8 {
			add("%s: data_bits %d must be between 5 and 8", where, g.DataBits)
		}
		if g.StopBits != 1 && g.StopBits != 2 {
			add("%s: stop_bits %d must be 1 or 2", where, g.StopBits)
		}
		if !slices.Contains(baudRates, g.BaudRate) {
			add("%s: baud_rate %d is not a standard rate the serial driver supports (for example 2400, 4800, 9600, 19200, 38400, 115200)",
				where, g.BaudRate)
		}
		return errs
	}
	if g.Address == "" || !strings.Contains(g.Address, ":") {
		add("%s: address %q must be host:port", where, g.Address)
	}
	if g.Device != "" {
		add("%s: device is for protocol rtu", where)
	}
	return errs
}
