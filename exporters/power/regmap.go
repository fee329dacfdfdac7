package power

import (
	"bytes"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Tables of the Modbus data model that a map can read.
const (
	TableHolding       = "holding"
	TableInput         = "input"
	TableCoil          = "coil"
	TableDiscreteInput = "discrete_input"
)

// Data types of register values. Bool is the only type of coils and
// discrete inputs.
const (
	TypeInt16   = "int16"
	TypeUint16  = "uint16"
	TypeInt32   = "int32"
	TypeUint32  = "uint32"
	TypeFloat32 = "float32"
	TypeFloat64 = "float64"
	TypeBool    = "bool"
)

// Word and byte orders. "big" is the Modbus convention: the first
// register holds the most significant word, and the first byte of each
// register is its most significant byte.
const (
	OrderBig    = "big"
	OrderLittle = "little"
)

// Quantities a map register can feed. Each is one exported metric.
const (
	QuantityVoltage       = "voltage_volts"
	QuantityCurrent       = "current_amperes"
	QuantityActivePower   = "active_watts"
	QuantityPhasePower    = "phase_active_watts"
	QuantityPowerFactor   = "power_factor_ratio"
	QuantityFrequency     = "frequency_hertz"
	QuantityActiveEnergy  = "active_energy_joules"
	QuantityBreakerClosed = "breaker_closed"
	// QuantityValue is any other value (reactive power, harmonics,
	// temperatures), exported under the register's name in the map's unit.
	QuantityValue = "value"
)

// DefaultMaxReadRegisters is the Modbus limit of registers in one read
// (function codes 3 and 4 carry at most 125 registers).
const DefaultMaxReadRegisters = 125

// DefaultMaxReadBits is the Modbus limit of coils or discrete inputs in
// one read (function codes 1 and 2).
const DefaultMaxReadBits = 2000

var (
	tables = []string{TableHolding, TableInput, TableCoil, TableDiscreteInput}
	types  = []string{TypeInt16, TypeUint16, TypeInt32, TypeUint32, TypeFloat32, TypeFloat64, TypeBool}

	// unitFactors converts a map unit to the quantity's base unit.
	unitFactors = map[string]map[string]float64{
		QuantityVoltage:       {"V": 1, "kV": 1e3},
		QuantityCurrent:       {"A": 1, "mA": 1e-3, "kA": 1e3},
		QuantityActivePower:   {"W": 1, "kW": 1e3, "MW": 1e6},
		QuantityPhasePower:    {"W": 1, "kW": 1e3, "MW": 1e6},
		QuantityPowerFactor:   {"ratio": 1, "%": 0.01},
		QuantityFrequency:     {"Hz": 1},
		QuantityActiveEnergy:  {"J": 1, "Wh": 3600, "kWh": 3.6e6, "MWh": 3.6e9},
		QuantityBreakerClosed: {"bool": 1},
		QuantityValue:         {},
	}
	// defaultUnits is the unit assumed when a register names none.
	defaultUnits = map[string]string{
		QuantityVoltage: "V", QuantityCurrent: "A", QuantityActivePower: "W",
		QuantityPhasePower: "W", QuantityPowerFactor: "ratio", QuantityFrequency: "Hz",
		QuantityActiveEnergy: "J", QuantityBreakerClosed: "bool",
	}
	phasedQuantities = map[string][]string{
		QuantityVoltage:    {"L1", "L2", "L3", "L1-L2", "L2-L3", "L3-L1"},
		QuantityCurrent:    {"L1", "L2", "L3", "N"},
		QuantityPhasePower: {"L1", "L2", "L3"},
	}
)

//go:embed maps/*.yml
var builtinMaps embed.FS

// Map is a register map file: how to read one model of power meter.
// docs/config.md describes the format.
type Map struct {
	// Device names the meter model.
	Device string `yaml:"device"`
	// Source names the vendor document and table the addresses come from.
	Source string `yaml:"source"`
	// Defaults apply to every register that leaves the field empty.
	Defaults RegisterDefaults `yaml:"defaults"`
	// MaxReadRegisters caps the registers in one read; some meters accept
	// fewer than the protocol's 125. Default 125.
	MaxReadRegisters int `yaml:"max_read_registers"`
	// MaxReadBits caps the coils or discrete inputs in one read. Default 2000.
	MaxReadBits int `yaml:"max_read_bits"`
	// Gaps are address ranges the device rejects (exception 2); no read
	// spans one.
	Gaps      []Gap      `yaml:"gaps"`
	Registers []Register `yaml:"registers"`
}

// RegisterDefaults are the map-wide defaults of register fields.
type RegisterDefaults struct {
	Table     string `yaml:"table"`
	Type      string `yaml:"type"`
	WordOrder string `yaml:"word_order"`
	ByteOrder string `yaml:"byte_order"`
}

// Gap is an inclusive address range of one table that a device rejects.
type Gap struct {
	Table string `yaml:"table"`
	From  uint16 `yaml:"from"`
	To    uint16 `yaml:"to"`
}

// Register is one value in a map.
type Register struct {
	// Name identifies the register in errors and logs.
	Name string `yaml:"name"`
	// Address is the zero-based protocol address (register 30001 is
	// input register 0).
	Address   uint16 `yaml:"address"`
	Table     string `yaml:"table"`
	Type      string `yaml:"type"`
	WordOrder string `yaml:"word_order"`
	ByteOrder string `yaml:"byte_order"`
	// Scale and Offset turn the raw number into Unit: raw*scale + offset.
	// Scale defaults to 1.
	Scale  *float64 `yaml:"scale"`
	Offset float64  `yaml:"offset"`
	// Unit is the unit after scaling, converted to the base unit of
	// Quantity (kWh to joules, kV to volts).
	Unit string `yaml:"unit"`
	// Quantity names the metric the value feeds.
	Quantity string `yaml:"quantity"`
	// Phase is L1, L2, L3, N or a line pair such as L1-L2.
	Phase string `yaml:"phase"`

	factor float64
}

// Width returns the number of registers (or bits) the value occupies.
func (r *Register) Width() uint16 {
	switch r.Type {
	case TypeInt32, TypeUint32, TypeFloat32:
		return 2
	case TypeFloat64:
		return 4
	default:
		return 1
	}
}

// LoadMap reads a map file, or a built-in map when name has no path
// separator and no .yml or .yaml suffix (for example "eastron_sdm630").
func LoadMap(name string) (*Map, error) {
	var data []byte
	var err error
	if IsBuiltinMap(name) {
		data, err = builtinMaps.ReadFile("maps/" + name + ".yml")
		if err != nil {
			return nil, fmt.Errorf("built-in register map %q not found, expected one of %s",
				name, strings.Join(BuiltinMaps(), ", "))
		}
	} else {
		data, err = os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read register map: %w", err)
		}
	}
	m, err := ParseMap(data)
	if err != nil {
		return nil, fmt.Errorf("register map %s: %w", name, err)
	}
	return m, nil
}

// IsBuiltinMap reports whether a map reference names a built-in map.
func IsBuiltinMap(name string) bool {
	return !strings.ContainsAny(name, `/\`) && !strings.HasSuffix(name, ".yml") &&
		!strings.HasSuffix(name, ".yaml")
}

// BuiltinMaps lists the names of the maps compiled into the binary.
func BuiltinMaps() []string {
	entries, _ := builtinMaps.ReadDir("maps")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yml"))
	}
	return names
}

// ParseMap decodes a map strictly, applies defaults and validates it.
func ParseMap(data []byte) (*Map, error) {
	var m Map
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if err := m.normalize(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Map) normalize() error {
	if m.MaxReadRegisters == 0 {
		m.MaxReadRegisters = DefaultMaxReadRegisters
	}
	if m.MaxReadBits == 0 {
		m.MaxReadBits = DefaultMaxReadBits
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m.MaxReadRegisters < 1 || m.MaxReadRegisters > DefaultMaxReadRegisters {
		add("max_read_registers %d must be between 1 and 125", m.MaxReadRegisters)
	}
	if m.MaxReadBits < 1 || m.MaxReadBits > DefaultMaxReadBits {
		add("max_read_bits %d must be between 1 and 2000", m.MaxReadBits)
	}
	if len(m.Registers) == 0 {
		add("registers is empty")
	}
	for i, g := range m.Gaps {
		if !slices.Contains(tables, g.Table) {
			add("gaps[%d].table %q is invalid, expected one of %s", i, g.Table, strings.Join(tables, ", "))
		}
		if g.To < g.From {
			add("gaps[%d]: to %d is below from %d", i, g.To, g.From)
		}
	}

	seen := map[string]string{}
	for i := range m.Registers {
		r := &m.Registers[i]
		if err := m.normalizeRegister(r); err != nil {
			add("registers[%d] (%s): %w", i, r.Name, err)
			continue
		}
		key := r.Quantity + "/" + r.Phase
		if r.Quantity == QuantityValue {
			key += "/" + r.Name
		}
		if prev, ok := seen[key]; ok {
			add("registers[%d] (%s): quantity %s phase %q is already read by %s",
				i, r.Name, r.Quantity, r.Phase, prev)
		}
		seen[key] = r.Name
	}
	return errors.Join(errs...)
}

func (m *Map) normalizeRegister(r *Register) error {
	if !namePattern.MatchString(r.Name) {
		return errors.New("name must be letters, digits, '_', '.', ':' or '-'")
	}
	if r.Table == "" {
		r.Table = m.Defaults.Table
	}
	bitTable := r.Table == TableCoil || r.Table == TableDiscreteInput
	if r.Type == "" && bitTable {
		r.Type = TypeBool
	}
	if r.Type == "" {
		r.Type = m.Defaults.Type
	}
	if r.WordOrder == "" {
		r.WordOrder = m.Defaults.WordOrder
	}
	if r.ByteOrder == "" {
		r.ByteOrder = m.Defaults.ByteOrder
	}
	if r.WordOrder == "" {
		r.WordOrder = OrderBig
	}
	if r.ByteOrder == "" {
		r.ByteOrder = OrderBig
	}

	if !slices.Contains(tables, r.Table) {
		return fmt.Errorf("table %q is invalid, expected one of %s", r.Table, strings.Join(tables, ", "))
	}
	if !slices.Contains(types, r.Type) {
		return fmt.Errorf("type %q is invalid, expected one of %s", r.Type, strings.Join(types, ", "))
	}
	if bitTable != (r.Type == TypeBool) {
		return fmt.Errorf("type %s does not fit table %s: coils and discrete inputs are bool, registers are not",
			r.Type, r.Table)
	}
	for field, v := range map[string]string{"word_order": r.WordOrder, "byte_order": r.ByteOrder} {
		if v != OrderBig && v != OrderLittle {
			return fmt.Errorf("%s %q is invalid, expected big or little", field, v)
		}
	}
	if int(r.Address)+int(r.Width()) > 65536 {
		return fmt.Errorf("address %d plus %d registers runs past 65535", r.Address, r.Width())
	}
	for _, g := range m.Gaps {
		if g.Table == r.Table && r.Address <= g.To && r.Address+r.Width()-1 >= g.From {
			return fmt.Errorf("address %d lies in the gap %d-%d", r.Address, g.From, g.To)
		}
	}

	units, ok := unitFactors[r.Quantity]
	if !ok {
		return fmt.Errorf("quantity %q is invalid, expected one of %s", r.Quantity, strings.Join(quantityNames(), ", "))
	}
	if (r.Quantity == QuantityBreakerClosed) != bitTable {
		return fmt.Errorf("quantity %s needs a coil or discrete input, and only it may use one", QuantityBreakerClosed)
	}
	if r.Unit == "" {
		r.Unit = defaultUnits[r.Quantity]
	}
	factor, ok := units[r.Unit]
	if r.Quantity == QuantityValue {
		factor, ok = 1, true // free unit, no conversion
	}
	if !ok {
		return fmt.Errorf("unit %q does not fit quantity %s, expected one of %s",
			r.Unit, r.Quantity, strings.Join(sortedKeys(units), ", "))
	}
	r.factor = factor
	phases, phased := phasedQuantities[r.Quantity]
	switch {
	case phased && !slices.Contains(phases, r.Phase):
		return fmt.Errorf("quantity %s needs a phase, one of %s", r.Quantity, strings.Join(phases, ", "))
	case !phased && r.Phase != "":
		return fmt.Errorf("quantity %s takes no phase", r.Quantity)
	}
	if r.Scale == nil {
		one := 1.0
		r.Scale = &one
	}
	if *r.Scale == 0 {
		return errors.New("scale must not be 0")
	}
	return nil
}

func quantityNames() []string { return sortedKeys(unitFactors) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ErrNotFinite is returned by Decode for NaN and infinite values, which
// meters send for quantities they cannot measure.
var ErrNotFinite = errors.New("value is not a finite number")

// Decode converts the raw bytes of one register value, as read from the
// wire (two bytes per register), to the quantity's base unit.
func (r *Register) Decode(raw []byte) (float64, error) {
	if r.Type == TypeBool {
		return 0, fmt.Errorf("register %s is a bool; use DecodeBit", r.Name)
	}
	if len(raw) != int(r.Width())*2 {
		return 0, fmt.Errorf("register %s needs %d bytes, got %d", r.Name, r.Width()*2, len(raw))
	}
	b := r.toBigEndian(raw)
	var v float64
	switch r.Type {
	case TypeInt16:
		v = float64(int16(binary.BigEndian.Uint16(b)))
	case TypeUint16:
		v = float64(binary.BigEndian.Uint16(b))
	case TypeInt32:
		v = float64(int32(binary.BigEndian.Uint32(b)))
	case TypeUint32:
		v = float64(binary.BigEndian.Uint32(b))
	case TypeFloat32:
		v = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	case TypeFloat64:
		v = math.Float64frombits(binary.BigEndian.Uint64(b))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, ErrNotFinite
	}
	return r.toBase(v), nil
}

// DecodeBit converts a coil or discrete input state to 0 or 1.
func (r *Register) DecodeBit(on bool) float64 {
	if on {
		return 1
	}
	return 0
}

func (r *Register) toBase(raw float64) float64 {
	return (raw*(*r.Scale) + r.Offset) * r.factor
}

// Encode converts a value in the quantity's base unit to wire bytes, the
// inverse of Decode. The simulated terminals use it. Integer types round
// and saturate at their range.
func (r *Register) Encode(value float64) []byte {
	raw := (value/r.factor - r.Offset) / *r.Scale
	b := make([]byte, r.Width()*2)
	switch r.Type {
	case TypeInt16:
		binary.BigEndian.PutUint16(b, uint16(int16(clampRound(raw, math.MinInt16, math.MaxInt16))))
	case TypeUint16:
		binary.BigEndian.PutUint16(b, uint16(clampRound(raw, 0, math.MaxUint16)))
	case TypeInt32:
		binary.BigEndian.PutUint32(b, uint32(int32(clampRound(raw, math.MinInt32, math.MaxInt32))))
	case TypeUint32:
		binary.BigEndian.PutUint32(b, uint32(clampRound(raw, 0, math.MaxUint32)))
	case TypeFloat32:
		binary.BigEndian.PutUint32(b, math.Float32bits(float32(raw)))
	case TypeFloat64:
		binary.BigEndian.PutUint64(b, math.Float64bits(raw))
	}
	return r.fromBigEndian(b)
}

func clampRound(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, math.Round(v)))
}

// toBigEndian reorders wire bytes into one big-endian number.
func (r *Register) toBigEndian(raw []byte) []byte {
	b := slices.Clone(raw)
	n := len(b) / 2
	if r.WordOrder == OrderLittle {
		for i := 0; i < n/2; i++ {
			j := n - 1 - i
			b[2*i], b[2*i+1], b[2*j], b[2*j+1] = b[2*j], b[2*j+1], b[2*i], b[2*i+1]
		}
	}
	if r.ByteOrder == OrderLittle {
		for i := 0; i < n; i++ {
			b[2*i], b[2*i+1] = b[2*i+1], b[2*i]
		}
	}
	return b
}

// fromBigEndian is the inverse of toBigEndian; both reorderings are
// their own inverses and commute.
func (r *Register) fromBigEndian(b []byte) []byte { return r.toBigEndian(b) }
