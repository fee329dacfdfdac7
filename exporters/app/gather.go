package app

import (
	"cmp"
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
	// others are the families of later sources with the name of a first
	// source's family in byName.
	byName := map[string]*dto.MetricFamily{}
	others := map[string][]*dto.MetricFamily{}
	for _, g := range m.gatherers {
		families, err := g.Gather()
		if err != nil {
			errs = append(errs, err)
		}
		for _, f := range families {
			if len(f.Metric) == 0 {
				continue
			}
			first, ok := byName[f.GetName()]
			if !ok {
				byName[f.GetName()] = f
				continue
			}
			if first.GetType() != f.GetType() {
				errs = append(errs, fmt.Errorf("metric family %s is a %s in one source and a %s in another; the second is dropped",
					f.GetName(), first.GetType(), f.GetType()))
				continue
			}
			others[f.GetName()] = append(others[f.GetName()], f)
		}
	}

	out := make([]*dto.MetricFamily, 0, len(byName))
	for name, f := range byName {
		// A family of one source is passed on as its registry returned
		// it: a registry's series are unique and sorted already.
		if later := others[name]; len(later) > 0 {
			f, errs = mergeFamilies(f, later, errs)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, errors.Join(errs...)
}

// mergeFamilies returns one family with the series of first and later,
// each series once, sorted by labels.
func mergeFamilies(first *dto.MetricFamily, later []*dto.MetricFamily, errs []error) (*dto.MetricFamily, []error) {
	merged := &dto.MetricFamily{Name: first.Name, Help: first.Help, Type: first.Type, Unit: first.Unit}
	seen := make(map[string]struct{}, len(first.Metric))
	var key []byte
	for _, f := range append([]*dto.MetricFamily{first}, later...) {
		for _, metric := range f.Metric {
			key = key[:0]
			for _, l := range metric.Label {
				key = append(key, l.GetName()...)
				key = append(key, 0xff)
				key = append(key, l.GetValue()...)
				key = append(key, 0xff)
			}
			if _, dup := seen[string(key)]; dup {
				errs = append(errs, fmt.Errorf("series %s{%s} is exported by two sources; the second copy is dropped",
					f.GetName(), labelKey(metric)))
				continue
			}
			seen[string(key)] = struct{}{}
			merged.Metric = append(merged.Metric, metric)
		}
	}
	slices.SortFunc(merged.Metric, compareLabels)
	return merged, errs
}

// compareLabels orders two series by their label pairs, which client_golang
// keeps sorted by name.
func compareLabels(a, b *dto.Metric) int {
	for i := 0; i < len(a.Label) && i < len(b.Label); i++ {
		if c := strings.Compare(a.Label[i].GetName(), b.Label[i].GetName()); c != 0 {
			return c
		}
		if c := strings.Compare(a.Label[i].GetValue(), b.Label[i].GetValue()); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Label), len(b.Label))
}

// labelKey returns the label pairs of a series sorted by name, joined, for
// error messages.
func labelKey(m *dto.Metric) string {
	pairs := make([]string, 0, len(m.Label))
	for _, l := range m.Label {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
