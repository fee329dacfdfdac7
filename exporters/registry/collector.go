package registry

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	infoDesc = prometheus.NewDesc("mine_info",
		"Registered mine; always 1. Join on mine_id to get city, county and kind.",
		[]string{"mine_id", "mine_name", "kind", "city", "county"}, nil)
	statusDesc = prometheus.NewDesc("mine_status",
		"The mine's current regulatory status; 1, with one series per mine.",
		[]string{"mine_id", "status"}, nil)
	capacityDesc = prometheus.NewDesc("mine_approved_capacity_tonnes_per_year",
		"Approved production capacity from the mining licence, in tonnes per year.",
		[]string{"mine_id"}, nil)
	personsLimitDesc = prometheus.NewDesc("mine_underground_persons_limit",
		"Approved number of persons underground at once.",
		[]string{"mine_id"}, nil)
	crewLimitDesc = prometheus.NewDesc("mine_maintenance_crew_limit",
		"Persons allowed underground while the mine is not producing.",
		[]string{"mine_id"}, nil)
	overtimeLimitDesc = prometheus.NewDesc("mine_underground_time_limit_seconds",
		"Longest allowed stay underground for one person, in seconds.",
		[]string{"mine_id"}, nil)
	idleThresholdDesc = prometheus.NewDesc("mine_machine_idle_threshold_amperes",
		"Phase current below which a machine counts as stopped.",
		[]string{"mine_id", "machine", "terminal", "class"}, nil)
	minesDesc = prometheus.NewDesc("mine_registry_mines",
		"Number of mines in the loaded registry.", nil, nil)
)

// Holder keeps the current registry so that a reload swaps it atomically
// while sources and scrapes read it.
type Holder struct {
	current atomic.Pointer[Registry]
}

// NewHolder returns a holder with r as its registry; r may be nil.
func NewHolder(r *Registry) *Holder {
	h := &Holder{}
	h.Store(r)
	return h
}

// Load returns the current registry, never nil.
func (h *Holder) Load() *Registry {
	if r := h.current.Load(); r != nil {
		return r
	}
	return &Registry{}
}

// Store replaces the current registry.
func (h *Holder) Store(r *Registry) {
	if r == nil {
		r = &Registry{}
	}
	h.current.Store(r)
}

// Describe implements prometheus.Collector.
func (h *Holder) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{infoDesc, statusDesc, capacityDesc, personsLimitDesc,
		crewLimitDesc, overtimeLimitDesc, idleThresholdDesc, minesDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (h *Holder) Collect(ch chan<- prometheus.Metric) {
	r := h.Load()
	ch <- prometheus.MustNewConstMetric(minesDesc, prometheus.GaugeValue, float64(len(r.Mines)))
	for i := range r.Mines {
		m := &r.Mines[i]
		gauge := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
		}
		gauge(infoDesc, 1, m.Code, m.Name, m.Kind, m.City, m.County)
		gauge(statusDesc, 1, m.Code, m.Status)
		gauge(capacityDesc, m.ApprovedCapacityTonnesPerYear, m.Code)
		gauge(personsLimitDesc, float64(m.ApprovedUndergroundPersons), m.Code)
		gauge(crewLimitDesc, float64(m.MaintenanceCrewMax), m.Code)
		gauge(overtimeLimitDesc, m.OvertimeUndergroundHours*3600, m.Code)
		for _, mc := range m.Machines {
			gauge(idleThresholdDesc, mc.IdleThresholdAmperes, m.Code, mc.Name, mc.Terminal, mc.Class)
		}
	}
}
