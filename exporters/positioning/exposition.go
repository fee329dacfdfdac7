package positioning

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/minewatch/minewatch/exporters/minemetrics"
)

// family is one metric family of the positioning source. The collector
// computes each scrape once and hands every sample to a sink. One sink
// builds client_golang const metrics, and the other writes the Prometheus
// text format straight into byte slices. /metrics serves the text, because
// an object per series was too slow for 10,000 tags (docs/benchmarks.md).
type family struct {
	index     int
	name      string
	help      string
	valueType prometheus.ValueType
	// labels are the label names in the order the collector passes the
	// values.
	labels []string
	desc   *prometheus.Desc
	// textOrder lists the indexes of labels sorted by label name, the
	// order in which client_golang writes label pairs too.
	textOrder []int
	// textParts are the fixed pieces of a sample line around the label
	// values: `name{a="`, `",b="`, ..., `"} `.
	textParts []string
}

func newFamily(name, help string, vt prometheus.ValueType, labels ...string) *family {
	f := &family{
		index:     len(families),
		name:      name,
		help:      help,
		valueType: vt,
		labels:    labels,
		desc:      prometheus.NewDesc(name, help, labels, nil),
	}
	for i := range labels {
		f.textOrder = append(f.textOrder, i)
	}
	slices.SortFunc(f.textOrder, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	prefix := name + "{"
	for _, i := range f.textOrder {
		f.textParts = append(f.textParts, prefix+labels[i]+`="`)
		prefix = `",`
	}
	f.textParts = append(f.textParts, `"} `)
	families = append(families, f)
	return f
}

func sharedFamily(d minemetrics.Def) *family {
	return newFamily(d.Name, d.Help, prometheus.GaugeValue, d.LabelNames()...)
}

// sink receives the samples of one scrape. labels are the values of
// f.labels in that order.
type sink interface {
	add(f *family, v float64, labels ...string)
}

// metricSink sends const metrics to a client_golang registry.
type metricSink chan<- prometheus.Metric

func (s metricSink) add(f *family, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(f.desc, f.valueType, v, labels...)
	if err != nil {
		// Invalid UTF-8 in a tag id: the registry reports the error and
		// serves the other series.
		m = prometheus.NewInvalidMetric(f.desc, err)
	}
	s <- m
}

// textSink collects sample lines of the text format 0.0.4, one buffer per
// family.
type textSink struct {
	lines [][]byte
}

func (s *textSink) add(f *family, v float64, labels ...string) {
	b := s.lines[f.index]
	b = append(b, f.textParts[0]...)
	for i, li := range f.textOrder {
		b = appendLabelValue(b, labels[li])
		b = append(b, f.textParts[i+1]...)
	}
	b = appendFloat(b, v)
	s.lines[f.index] = append(b, '\n')
}

// appendLabelValue appends v escaped for a quoted label value of the text
// format. Backslash, double quote and line feed are escaped, and invalid
// UTF-8 becomes U+FFFD because client_golang rejects it.
func appendLabelValue(b []byte, v string) []byte {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	start := 0
	for i := 0; i < len(v); i++ {
		var esc string
		switch v[i] {
		case '\\':
			esc = `\\`
		case '"':
			esc = `\"`
		case '\n':
			esc = `\n`
		default:
			continue
		}
		b = append(b, v[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	return append(b, v[start:]...)
}

// appendFloat appends v as the text format writes sample values,
// identical to github.com/prometheus/common/expfmt.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(b, '1')
	case v == 0:
		return append(b, '0')
	case v == -1:
		return append(b, "-1"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// TextFamily is one metric family in the Prometheus text format 0.0.4:
// Samples holds its sample lines, each ending in a line feed, with label
// pairs sorted by label name and no HELP or TYPE line.
type TextFamily struct {
	Name    string
	Help    string
	Type    dto.MetricType
	Samples []byte
}

// Expose computes the live state's series like Collect and returns them as
// text, one entry for each family with at least one sample, ordered by
// name.
func (c *Collector) Expose() []TextFamily {
	s := &textSink{lines: make([][]byte, len(families))}
	for i := range s.lines {
		if n := c.textBytes[i].Load(); n > 0 {
			s.lines[i] = make([]byte, 0, n+n/8)
		}
	}
	c.expose(s)
	for i, b := range s.lines {
		c.textBytes[i].Store(int64(len(b)))
	}
	out := make([]TextFamily, 0, len(families))
	for _, f := range families {
		if len(s.lines[f.index]) == 0 {
			continue
		}
		t := dto.MetricType_GAUGE
		if f.valueType == prometheus.CounterValue {
			t = dto.MetricType_COUNTER
		}
		out = append(out, TextFamily{Name: f.name, Help: f.help, Type: t, Samples: s.lines[f.index]})
	}
	slices.SortFunc(out, func(a, b TextFamily) int { return strings.Compare(a.Name, b.Name) })
	return out
}
