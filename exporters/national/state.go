package national

import (
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/registry"
)

// mineState is the newest content of each file type of one mine.
type mineState struct {
	id       string
	areas    *areasContent
	stations *stationsContent
	people   *peopleContent
	ryss     *ryssContent
	jzss     *stationStateContent
	cdss     *cdssContent
	alarms   map[string]*alarmContent

	// plan is the mine's plan, nil without one. anchors holds the
	// projection of each RYJZ station onto the plan's tunnels, computed
	// when the stations or the plan change so that placing a card costs
	// only its walk along the tunnel.
	plan    *minePlan
	anchors map[string]stationAnchors
}

// cardPosition returns where a card is: its station's RYJZ coordinates,
// moved by the card's signed distance along the plan's tunnel nearest the
// station when there is one. onTunnel reports that move, and ok is false
// when RYJZ does not list the station.
func (m *mineState) cardPosition(k *card) (pos [3]float64, onTunnel, ok bool) {
	if m.stations == nil {
		return pos, false, false
	}
	pos, ok = m.stations.stations[k.station]
	if !ok {
		return pos, false, false
	}
	a, anchored := m.anchors[k.station]
	if !anchored || !k.hasDistance {
		return pos, false, true
	}
	return a.place(pos, k.distance), true, true
}

// contents lists the current content in file-type order.
func (m *mineState) contents() []content {
	var out []content
	if m.areas != nil {
		out = append(out, m.areas)
	}
	if m.stations != nil {
		out = append(out, m.stations)
	}
	if m.people != nil {
		out = append(out, m.people)
	}
	if m.ryss != nil {
		out = append(out, m.ryss)
	}
	if m.jzss != nil {
		out = append(out, m.jzss)
	}
	if m.cdss != nil {
		out = append(out, m.cdss)
	}
	for _, typ := range []string{TypeRYCS, TypeRYCY, TypeRYXZ, TypeRYQJ} {
		if a := m.alarms[typ]; a != nil {
			out = append(out, a)
		}
	}
	return out
}

// set makes c the current content of its type unless the current one has
// a later data time, so a late file lands in VictoriaMetrics at its own
// time without replacing newer values. It reports whether c was applied.
func (m *mineState) set(c content) bool {
	for _, cur := range m.contents() {
		if cur.fileType() == c.fileType() && cur.dataTime().After(c.dataTime()) {
			return false
		}
	}
	switch c := c.(type) {
	case *areasContent:
		m.areas = c
	case *stationsContent:
		m.stations = c
	case *peopleContent:
		m.people = c
	case *ryssContent:
		m.ryss = c
	case *stationStateContent:
		m.jzss = c
	case *cdssContent:
		m.cdss = c
	case *alarmContent:
		if m.alarms == nil {
			m.alarms = map[string]*alarmContent{}
		}
		m.alarms[c.typ] = c
	}
	return true
}

// State is the current content of every mine. It serves the current
// values on /metrics as an unchecked collector: the series depend on the
// files.
type State struct {
	registry *registry.Holder

	mu    sync.RWMutex
	mines map[string]*mineState
	// plans are the mine plans by mine id.
	plans map[string]*minePlan
	// tolerance is the largest distance, in metres, between a station and
	// a tunnel at which the station is placed on the tunnel.
	tolerance float64
	log       *slog.Logger
}

// NewState returns an empty state that reads area limits from reg, which
// may be nil.
func NewState(reg *registry.Holder) *State {
	if reg == nil {
		reg = registry.NewHolder(nil)
	}
	return &State{registry: reg, mines: map[string]*mineState{},
		log: slog.New(slog.DiscardHandler)}
}

// setPlans replaces the mine plans and places every mine's stations on
// its new plan.
func (s *State) setPlans(plans map[string]*minePlan, tolerance float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plans, s.tolerance = plans, tolerance
	for _, id := range sortedKeys(s.mines) {
		m := s.mines[id]
		m.plan = plans[id]
		s.anchor(m)
	}
}

// anchor projects the mine's stations onto its plan. The caller holds the
// write lock.
func (s *State) anchor(m *mineState) {
	m.anchors = nil
	if m.plan == nil || m.stations == nil {
		return
	}
	var offPlan []string
	m.anchors, offPlan = anchorStations(m.plan, m.stations.stations, s.tolerance)
	log := s.log.With("mine_id", m.id, "plan", m.plan.file, "on_tunnel", len(m.anchors),
		"off_plan", len(offPlan))
	if len(offPlan) == 0 {
		log.Info("stations placed on the tunnels of the mine plan")
		return
	}
	const shown = 5
	log.Warn("stations with no tunnel of the mine plan within plan_tolerance_meters, so their cards stay at the station",
		"plan_tolerance_meters", s.tolerance, "stations", offPlan[:min(len(offPlan), shown)])
}

// countPositions counts how the underground cards of c are placed with the
// mine's current stations and plan.
func (s *State) countPositions(mineID string, c *ryssContent) (onTunnel, atStation int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.mines[mineID]
	if m == nil {
		return 0, 0
	}
	for i := range c.cards {
		k := &c.cards[i]
		if k.flag != flagUnderground {
			continue
		}
		_, tunnel, ok := m.cardPosition(k)
		switch {
		case !ok:
		case tunnel:
			onTunnel++
		default:
			atStation++
		}
	}
	return onTunnel, atStation
}

// samples derives the samples of c at its data time against the mine's
// current reference data.
func (s *State) samples(mineID string, c content, out []sample) []sample {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.mines[mineID]
	if m == nil {
		m = &mineState{id: mineID}
	}
	return c.samples(m, s.registry.Load().Mine(mineID), out)
}

// apply makes c current for its mine; see mineState.set.
func (s *State) apply(mineID string, c content) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mines[mineID]
	if m == nil {
		m = &mineState{id: mineID, plan: s.plans[mineID]}
		s.mines[mineID] = m
	}
	if !m.set(c) {
		return false
	}
	if _, ok := c.(*stationsContent); ok {
		s.anchor(m)
	}
	return true
}

// Describe sends nothing: State is an unchecked collector.
func (s *State) Describe(chan<- *prometheus.Desc) {}

// Collect sends the current values without timestamps.
func (s *State) Collect(ch chan<- prometheus.Metric) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	reg := s.registry.Load()
	ids := make([]string, 0, len(s.mines))
	for id := range s.mines {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	var buf []sample
	for _, id := range ids {
		m := s.mines[id]
		buf = buf[:0]
		for _, c := range m.contents() {
			buf = c.samples(m, reg.Mine(id), buf)
		}
		// RYSS repeats the area limits of RYQY and the approved persons of
		// RYXX, because rules need them at every snapshot's data time.
		// On /metrics each series is sent once.
		seen := map[string]bool{}
		for i := range buf {
			smp := &buf[i]
			if smp.def == mAreaLimit || smp.def == mApproved {
				key := smp.def.name + "\xff" + strings.Join(smp.labelValues(), "\xff")
				if seen[key] {
					continue
				}
				seen[key] = true
			}
			metric, err := constMetric(smp)
			if err != nil {
				ch <- prometheus.NewInvalidMetric(smp.def.desc, err)
				continue
			}
			ch <- metric
		}
	}
}
