package app

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// mergedGatherer gathers the registries of all sources into one
// exposition. Two sources may export the same metric family (national
// files and UWB positioning both count persons); the first help text wins
// so that a wording difference never fails a scrape. A series that two
// sources export with identical labels is kept once and reported as an
// error, which promhttp logs while serving the rest.
type mergedGatherer struct {
	gatherers []prometheus.Gatherer
}

func (m mergedGatherer) Gather() ([]*dto.MetricFamily, error) {
	var errs []error
	byName := map[string]*dto.MetricFamily{}
	seen := map[string]bool{}
	for _, g := range m.gatherers {
		families, err := g.Gather()
		if err != nil {
			errs = append(errs, err)
		}
		for _, f := range families {
			existing, ok := byName[f.GetName()]
			if !ok {
				existing = &dto.MetricFamily{Name: f.Name, Help: f.Help, Type: f.Type, Unit: f.Unit}
				byName[f.GetName()] = existing
			} else if existing.GetType() != f.GetType() {
				errs = append(errs, fmt.Errorf("metric family %s is a %s in one source and a %s in another; the second is dropped",
					f.GetName(), existing.GetType(), f.GetType()))
				continue
			}
			for _, metric := range f.Metric {
				key := f.GetName() + "{" + labelKey(metric) + "}"
				if seen[key] {
					errs = append(errs, fmt.Errorf("series %s is exported by two sources; the second copy is dropped", key))
					continue
				}
				seen[key] = true
				existing.Metric = append(existing.Metric, metric)
			}
		}
	}

	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		if len(f.Metric) == 0 {
			continue
		}
		sort.Slice(f.Metric, func(i, j int) bool { return labelKey(f.Metric[i]) < labelKey(f.Metric[j]) })
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, errors.Join(errs...)
}

// labelKey returns the label pairs of a series sorted by name, joined.
func labelKey(m *dto.Metric) string {
	pairs := make([]string, 0, len(m.Label))
	for _, l := range m.Label {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
