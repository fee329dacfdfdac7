package positioning

import (
	"math"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/minemetrics"
	"github.com/minewatch/minewatch/exporters/registry"
)

// FeedName is the feed label of mine_feed_last_data_timestamp_seconds for
// MQTT positioning data.
const FeedName = "mqtt_positioning"

var (
	personPositionDesc    = minemetrics.PersonPosition.Desc()
	personSOSDesc         = minemetrics.PersonSOS.Desc()
	personUndergroundDesc = minemetrics.PersonUndergroundSeconds.Desc()
	batteryDesc           = prometheus.NewDesc("mine_tag_battery_ratio",
		"Battery level of a tag from its last message, 0 to 1.",
		[]string{"mine_id", "tag", "kind"}, nil)
	vehiclePositionDesc = prometheus.NewDesc("mine_vehicle_position_meters",
		"Position of a vehicle tag on the mine grid from its last fix.",
		[]string{"mine_id", "vehicle", "axis"}, nil)
	equipmentPositionDesc = prometheus.NewDesc("mine_equipment_position_meters",
		"Position of an equipment tag on the mine grid from its last fix.",
		[]string{"mine_id", "equipment", "axis"}, nil)
	vehicleDistanceDesc = prometheus.NewDesc("mine_vehicle_person_distance_meters",
		"Distance in 3D from a vehicle to the nearest live person tag of its mine.",
		[]string{"mine_id", "vehicle"}, nil)
	equipmentDisplacementDesc = prometheus.NewDesc("mine_equipment_displacement_meters",
		"Distance in 3D of an equipment tag from its registered position.",
		[]string{"mine_id", "equipment"}, nil)
	areaPersonsDesc        = minemetrics.AreaPersons.Desc()
	areaLimitDesc          = minemetrics.AreaPersonsLimit.Desc()
	undergroundPersonsDesc = minemetrics.UndergroundPersons.Desc()
	restrictedPersonsDesc  = minemetrics.RestrictedAreaPersons.Desc()
	tagsDesc               = prometheus.NewDesc("mine_positioning_tags",
		"Live tags of a mine by kind.",
		[]string{"mine_id", "kind"}, nil)
	lowBatteryDesc = prometheus.NewDesc("mine_positioning_tags_low_battery",
		"Live tags whose battery is below the configured low_battery_percent.",
		[]string{"mine_id", "kind"}, nil)
	messagesDesc = prometheus.NewDesc("mine_positioning_messages_total",
		"Tag messages decoded and applied to the live state.",
		[]string{"mine_id"}, nil)
	rejectedDesc = prometheus.NewDesc("mine_positioning_tags_rejected_total",
		"Messages of new tags rejected because the live state held max_tags tags.",
		[]string{"mine_id"}, nil)
	feedTimeDesc = minemetrics.FeedLastDataTimestamp.Desc()
)

var axes = [3]string{"x", "y", "z"}

// uwb is the source label of every person metric of this source.
const uwb = minemetrics.SourceUWB

// Collector exposes the live state at scrape time.
type Collector struct {
	state     *State
	registry  *registry.Holder
	equipment map[tagKey][3]float64
	lowBatt   float64
	cell      float64
	now       func() time.Time
}

// NewCollector returns a collector of state. reg may be nil.
func NewCollector(state *State, reg *registry.Holder, cfg *Config, now func() time.Time) *Collector {
	eq := map[tagKey][3]float64{}
	for _, e := range cfg.Equipment {
		eq[tagKey{e.MineID, e.Tag}] = [3]float64{e.X, e.Y, e.Z}
	}
	return &Collector{state: state, registry: reg, equipment: eq, lowBatt: cfg.LowBatteryPercent,
		cell: cfg.GridCellMeters, now: now}
}

// Describe sends nothing: the collector is unchecked because other
// sources (the national files) export some of the same metric names.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// mineView is the per-mine aggregate of one scrape.
type mineView struct {
	persons     [][3]float64
	areas       map[[2]string]int
	tags        map[string]int
	lowBattery  map[string]int
	underground int
	restricted  int
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	snap := c.state.snapshot(now)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	views := map[string]*mineView{}
	for id := range snap.mines {
		views[id] = &mineView{areas: map[[2]string]int{}, tags: map[string]int{}, lowBattery: map[string]int{}}
	}
	for i := range snap.tags {
		t := &snap.tags[i]
		v := views[t.MineID]
		v.tags[t.Kind]++
		if t.Battery >= 0 {
			gauge(batteryDesc, t.Battery/100, t.MineID, t.TagID, t.Kind)
			if t.Battery < c.lowBatt {
				v.lowBattery[t.Kind]++
			}
		}
		pos := [3]float64{t.X, t.Y, t.Z}
		switch t.Kind {
		case KindPerson:
			c.collectPerson(gauge, t, pos, now)
			v.persons = append(v.persons, pos)
			if t.Area != "" {
				v.areas[[2]string{t.Area, t.AreaType}]++
			}
			if t.AreaType != AreaShaftMouth {
				v.underground++
			}
			if t.AreaType == AreaRestricted {
				v.restricted++
			}
		case KindVehicle:
			for a := range axes {
				gauge(vehiclePositionDesc, pos[a], t.MineID, t.TagID, axes[a])
			}
		case KindEquipment:
			for a := range axes {
				gauge(equipmentPositionDesc, pos[a], t.MineID, t.TagID, axes[a])
			}
			if ref, ok := c.equipment[tagKey{t.MineID, t.TagID}]; ok {
				gauge(equipmentDisplacementDesc, distance(pos, ref), t.MineID, t.TagID)
			}
		}
	}

	indexes := map[string]*grid{}
	for i := range snap.tags {
		t := &snap.tags[i]
		if t.Kind != KindVehicle {
			continue
		}
		g := indexes[t.MineID]
		if g == nil {
			g = newGrid(c.cell, views[t.MineID].persons)
			indexes[t.MineID] = g
		}
		if d, ok := g.nearest([3]float64{t.X, t.Y, t.Z}); ok {
			gauge(vehicleDistanceDesc, d, t.MineID, t.TagID)
		}
	}

	for id, mc := range snap.mines {
		c.collectMine(ch, gauge, id, mc, views[id])
	}
}

func (c *Collector) collectPerson(gauge func(*prometheus.Desc, float64, ...string), t *tagState,
	pos [3]float64, now time.Time) {
	for a := range axes {
		gauge(personPositionDesc, pos[a], t.MineID, t.TagID, axes[a], uwb)
	}
	sos := 0.0
	if t.SOS {
		sos = 1
	}
	gauge(personSOSDesc, sos, t.MineID, t.TagID, uwb)
	gauge(personUndergroundDesc, math.Max(0, now.Sub(t.Since).Seconds()), t.MineID, t.TagID, uwb)
}

// collectMine exposes the per-mine aggregates. Every area of the mine's
// plan is exposed, with 0 persons when empty, so a rule or a map sees an
// area go back to 0 instead of its series ending.
func (c *Collector) collectMine(ch chan<- prometheus.Metric, gauge func(*prometheus.Desc, float64, ...string),
	id string, mc mineCounts, v *mineView) {
	ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.CounterValue, float64(mc.messages), id)
	ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, float64(mc.rejected), id)
	if !mc.lastData.IsZero() {
		gauge(feedTimeDesc, float64(mc.lastData.UnixMilli())/1000, id, FeedName)
	}
	gauge(undergroundPersonsDesc, float64(v.underground), id, uwb)
	gauge(restrictedPersonsDesc, float64(v.restricted), id, uwb)
	for _, kind := range kindValues {
		gauge(tagsDesc, float64(v.tags[kind]), id, kind)
		gauge(lowBatteryDesc, float64(v.lowBattery[kind]), id, kind)
	}

	var overrides map[string]int
	if c.registry != nil {
		if m := c.registry.Load().Mine(id); m != nil {
			overrides = m.AreaLimits
		}
	}
	plan := c.state.plans[id]
	seen := map[string]bool{}
	if plan != nil {
		for i := range plan.Areas {
			a := &plan.Areas[i]
			seen[a.Code] = true
			gauge(areaPersonsDesc, float64(v.areas[[2]string{a.Code, a.Type}]), id, a.Code, a.Type, uwb)
			limit := a.Limit
			if l, ok := overrides[a.Code]; ok {
				limit = l
			}
			if limit >= 0 {
				gauge(areaLimitDesc, float64(limit), id, a.Code, a.Type, uwb)
			}
		}
	}
	keys := make([][2]string, 0, len(v.areas))
	for k := range v.areas {
		if !seen[k[0]] {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0] < keys[j][0] })
	for _, k := range keys {
		gauge(areaPersonsDesc, float64(v.areas[k]), id, k[0], k[1], uwb)
		if l, ok := overrides[k[0]]; ok {
			gauge(areaLimitDesc, float64(l), id, k[0], k[1], uwb)
		}
	}
}

func distance(a, b [3]float64) float64 {
	return math.Sqrt(sq(a[0]-b[0]) + sq(a[1]-b[1]) + sq(a[2]-b[2]))
}
