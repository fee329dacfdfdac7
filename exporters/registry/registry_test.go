package registry

import (
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLoadSampleRegistry(t *testing.T) {
	r, err := Load("../../deploy/local/mines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Mines) != 2 {
		t.Fatalf("got %d mines, want 2", len(r.Mines))
	}
	m := r.Mine("320382000202")
	if m == nil {
		t.Fatal("mine 320382000202 not found")
	}
	if m.Producing() {
		t.Error("mine 320382000202 is under an ordered shutdown, Producing() = true")
	}
	if got := m.Machine("t-hoist"); got == nil || got.Class != MachineHoist {
		t.Errorf("terminal t-hoist maps to %+v, want class hoist", got)
	}
}

func TestParseRejectsInvalidEntries(t *testing.T) {
	valid := `
  - code: "320382000101"
    name: a
    kind: coal
    city: c
    county: d
    status: producing
`
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown key", "mines:" + valid + "    colour: red\n", []string{"colour", "not found"}},
		{"short code", "mines:" + strings.Replace(valid, `"320382000101"`, `"3203"`, 1),
			[]string{"line 2", "12 digits"}},
		{"bad status", "mines:" + strings.Replace(valid, "producing", "working", 1),
			[]string{"line 2", `status "working" is invalid`}},
		{"bad kind", "mines:" + strings.Replace(valid, "kind: coal", "kind: gold", 1),
			[]string{`kind "gold" is invalid`}},
		{"duplicate", "mines:" + valid + valid, []string{"line 9", "duplicate code", "line 2"}},
		{"area of other mine", "mines:" + valid + "    area_limits: {\"9999999999990001\": 3}\n",
			[]string{"area_limits key"}},
		{"bad machine class", "mines:" + valid +
			"    machines: [{terminal: t1, name: x, class: crusher}]\n", []string{`class "crusher" is invalid`}},
		{"missing name", "mines:" + strings.Replace(valid, "name: a", "name: ''", 1), []string{"name is missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if err == nil {
				t.Fatal("Parse returned no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCollectorExposesRegistry(t *testing.T) {
	data, err := os.ReadFile("../../deploy/local/mines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHolder(r)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h)
	want := `
# HELP mine_status The mine's current regulatory status; 1, with one series per mine.
# TYPE mine_status gauge
mine_status{mine_id="320382000101",status="producing"} 1
mine_status{mine_id="320382000202",status="ordered_shutdown"} 1
# HELP mine_underground_persons_limit Approved number of persons underground at once.
# TYPE mine_underground_persons_limit gauge
mine_underground_persons_limit{mine_id="320382000101"} 120
mine_underground_persons_limit{mine_id="320382000202"} 80
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"mine_status", "mine_underground_persons_limit"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(h, "mine_info"); n != 2 {
		t.Errorf("mine_info has %d series, want 2", n)
	}

	h.Store(nil)
	if n := testutil.CollectAndCount(h, "mine_info"); n != 0 {
		t.Errorf("after storing an empty registry mine_info has %d series, want 0", n)
	}
}
