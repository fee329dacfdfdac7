package power

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"testing"
)

// wire reorders big-endian bytes into the wire layout of the given
// orders, written out longhand as the test's own oracle.
func wire(t *testing.T, bigHex, wordOrder, byteOrder string) []byte {
	t.Helper()
	b, err := hex.DecodeString(bigHex)
	if err != nil {
		t.Fatal(err)
	}
	var words [][]byte
	for i := 0; i < len(b); i += 2 {
		words = append(words, []byte{b[i], b[i+1]})
	}
	if wordOrder == OrderLittle {
		for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
			words[i], words[j] = words[j], words[i]
		}
	}
	var out []byte
	for _, w := range words {
		if byteOrder == OrderLittle {
			w = []byte{w[1], w[0]}
		}
		out = append(out, w...)
	}
	return out
}

func TestWireOracleFloat32(t *testing.T) {
	// 1234.5 as float32 is 0x449A5000; the four layouts known as ABCD,
	// CDAB, BADC and DCBA.
	cases := map[[2]string]string{
		{OrderBig, OrderBig}:       "449a5000",
		{OrderLittle, OrderBig}:    "5000449a",
		{OrderBig, OrderLittle}:    "9a440050",
		{OrderLittle, OrderLittle}: "0050 9a44",
	}
	for orders, want := range cases {
		got := hex.EncodeToString(wire(t, "449a5000", orders[0], orders[1]))
		if got != strings.ReplaceAll(want, " ", "") {
			t.Errorf("word %s byte %s: got %s, want %s", orders[0], orders[1], got, want)
		}
	}
}

// typeCases are values whose big-endian encodings were computed outside
// this code (Python struct.pack).
var typeCases = []struct {
	typ    string
	bigHex string
	want   float64
}{
	{TypeInt16, "fb2e", -1234},
	{TypeUint16, "d431", 54321},
	{TypeInt32, "f8a432eb", -123456789},
	{TypeUint32, "b2d05e00", 3000000000},
	{TypeFloat32, "449a5000", 1234.5},
	{TypeFloat64, "c0f81cd6e9e1b08a", -98765.4321},
}

func TestDecodeEveryTypeAndOrder(t *testing.T) {
	for _, tc := range typeCases {
		for _, wo := range []string{OrderBig, OrderLittle} {
			for _, bo := range []string{OrderBig, OrderLittle} {
				r := Register{Name: "x", Type: tc.typ, WordOrder: wo, ByteOrder: bo, factor: 1, Scale: ptr(1.0)}
				got, err := r.Decode(wire(t, tc.bigHex, wo, bo))
				if err != nil {
					t.Fatalf("%s word %s byte %s: %v", tc.typ, wo, bo, err)
				}
				if got != tc.want {
					t.Errorf("%s word %s byte %s: got %v, want %v", tc.typ, wo, bo, got, tc.want)
				}
				back := hex.EncodeToString(r.Encode(tc.want))
				if back != hex.EncodeToString(wire(t, tc.bigHex, wo, bo)) {
					t.Errorf("%s word %s byte %s: encode gave %s", tc.typ, wo, bo, back)
				}
			}
		}
	}
}

func TestDecodeScaleOffsetUnit(t *testing.T) {
	m, err := ParseMap([]byte(`
registers:
  - {name: e, address: 0, table: holding, type: uint32, scale: 0.01, offset: 1, unit: kWh, quantity: active_energy_joules}
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Registers[0].Decode(wire(t, "000004d2", OrderBig, OrderBig)) // 1234
	if err != nil {
		t.Fatal(err)
	}
	if want := (12.34 + 1) * 3.6e6; math.Abs(got-want) > 1e-6 {
		t.Errorf("got %v J, want %v J", got, want)
	}
}

func TestDecodeRejectsNaN(t *testing.T) {
	r := Register{Name: "x", Type: TypeFloat32, WordOrder: OrderBig, ByteOrder: OrderBig, factor: 1, Scale: ptr(1.0)}
	if _, err := r.Decode([]byte{0x7f, 0xc0, 0, 0}); err != ErrNotFinite {
		t.Errorf("got %v, want ErrNotFinite", err)
	}
}

func TestParseMapErrors(t *testing.T) {
	cases := map[string]string{
		"unknown quantity": `registers: [{name: a, address: 0, table: input, type: float32, quantity: torque}]`,
		"missing phase":    `registers: [{name: a, address: 0, table: input, type: float32, quantity: current_amperes}]`,
		"bad unit":         `registers: [{name: a, address: 0, table: input, type: float32, quantity: current_amperes, phase: L1, unit: V}]`,
		"in a gap": `gaps: [{table: input, from: 0, to: 9}]
registers: [{name: a, address: 8, table: input, type: float32, quantity: active_watts}]`,
		"bool register": `registers: [{name: a, address: 0, table: input, type: bool, quantity: active_watts}]`,
		"unknown key":   `registers: [{name: a, adress: 0}]`,
		"duplicate": `registers:
  - {name: a, address: 0, table: input, type: float32, quantity: active_watts}
  - {name: b, address: 2, table: input, type: float32, quantity: active_watts}`,
		"too many registers": `max_read_registers: 126
registers: [{name: a, address: 0, table: input, type: float32, quantity: active_watts}]`,
	}
	for name, doc := range cases {
		if _, err := ParseMap([]byte(doc)); err == nil {
			t.Errorf("%s: map accepted, want an error", name)
		}
	}
}

func TestBuiltinMapsLoad(t *testing.T) {
	for _, name := range BuiltinMaps() {
		if _, err := LoadMap(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPlanShippedMaps(t *testing.T) {
	sdm, err := LoadMap("eastron_sdm630")
	if err != nil {
		t.Fatal(err)
	}
	plan := sdm.Plan()
	if len(plan) != 1 {
		t.Fatalf("SDM630: %d reads, want 1", len(plan))
	}
	if plan[0].Start != 0 || plan[0].Count != 74 {
		t.Errorf("SDM630: read %d+%d, want 0+74", plan[0].Start, plan[0].Count)
	}

	dtsu, err := LoadMap("chint_dtsu666")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(dtsu.Plan()); n != 2 {
		t.Errorf("DTSU666: %d reads, want 2", n)
	}
}

func TestPlanGapAndLimit(t *testing.T) {
	m, err := ParseMap([]byte(`
max_read_registers: 10
defaults: {table: holding, type: uint16}
gaps: [{table: holding, from: 3, to: 4}]
registers:
  - {name: a, address: 0, quantity: voltage_volts, phase: L1}
  - {name: b, address: 2, quantity: voltage_volts, phase: L2}
  - {name: c, address: 5, quantity: voltage_volts, phase: L3}
  - {name: d, address: 14, quantity: current_amperes, phase: L1}
  - {name: e, address: 16, quantity: current_amperes, phase: L2}
  - {name: f, address: 0, table: coil, quantity: breaker_closed}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, b := range m.Plan() {
		got = append(got, fmt.Sprintf("%s:%d+%d", b.Table, b.Start, b.Count))
	}
	want := "holding:0+3 holding:5+10 holding:16+1 coil:0+1"
	if strings.Join(got, " ") != want {
		t.Errorf("plan %v, want %s", got, want)
	}
}

func ptr[T any](v T) *T { return &v }
