package app

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMergedGathererJoinsSources(t *testing.T) {
	national := prometheus.NewRegistry()
	uwb := prometheus.NewRegistry()
	a := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mine_underground_persons", Help: "from files"},
		[]string{"mine_id", "source"})
	b := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mine_underground_persons", Help: "from UWB"},
		[]string{"mine_id", "source"})
	national.MustRegister(a)
	uwb.MustRegister(b)
	a.WithLabelValues("320382000101", "station").Set(31)
	b.WithLabelValues("320382000101", "uwb").Set(2)

	g := mergedGatherer{gatherers: []prometheus.Gatherer{national, uwb}}
	want := `
# HELP mine_underground_persons from files
# TYPE mine_underground_persons gauge
mine_underground_persons{mine_id="320382000101",source="station"} 31
mine_underground_persons{mine_id="320382000101",source="uwb"} 2
`
	if err := testutil.GatherAndCompare(g, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestMergedGathererDropsDuplicateSeries(t *testing.T) {
	first := prometheus.NewRegistry()
	second := prometheus.NewRegistry()
	a := prometheus.NewGauge(prometheus.GaugeOpts{Name: "mine_x", Help: "x", ConstLabels: prometheus.Labels{"mine_id": "1"}})
	b := prometheus.NewGauge(prometheus.GaugeOpts{Name: "mine_x", Help: "x", ConstLabels: prometheus.Labels{"mine_id": "1"}})
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "mine_y", Help: "y"})
	d := prometheus.NewGauge(prometheus.GaugeOpts{Name: "mine_y", Help: "y"})
	first.MustRegister(a, c)
	second.MustRegister(b, d)
	a.Set(1)
	b.Set(2)

	families, err := mergedGatherer{gatherers: []prometheus.Gatherer{first, second}}.Gather()
	if err == nil {
		t.Fatal("expected errors for the duplicate series and the type conflict")
	}
	for _, want := range []string{"series mine_x{mine_id=1} is exported by two sources", "mine_y is a COUNTER in one source and a GAUGE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if len(families) != 2 {
		t.Fatalf("got %d families, want 2", len(families))
	}
	if got := families[0].Metric; len(got) != 1 || got[0].GetGauge().GetValue() != 1 {
		t.Errorf("mine_x: %v, want the first source's value 1 only", got)
	}
}
