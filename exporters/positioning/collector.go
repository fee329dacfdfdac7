package positioning

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/minemetrics"
	"github.com/minewatch/minewatch/exporters/registry"
)

// FeedName is the feed label of mine_feed_last_data_timestamp_seconds for
// MQTT positioning data.
const FeedName = "mqtt_positioning"

// The families of this source, in the order of their index.
var (
	families []*family

	personPosition    = sharedFamily(minemetrics.PersonPosition)
	personSOS         = sharedFamily(minemetrics.PersonSOS)
	personUnderground = sharedFamily(minemetrics.PersonUndergroundSeconds)
	battery           = newFamily("mine_tag_battery_ratio",
		"Battery level of a tag from its last message, 0 to 1.",
		prometheus.GaugeValue, "mine_id", "tag", "kind")
	vehiclePosition = newFamily("mine_vehicle_position_meters",
		"Position of a vehicle tag on the mine grid from its last fix.",
		prometheus.GaugeValue, "mine_id", "vehicle", "axis")
	equipmentPosition = newFamily("mine_equipment_position_meters",
		"Position of an equipment tag on the mine grid from its last fix.",
		prometheus.GaugeValue, "mine_id", "equipment", "axis")
	vehicleDistance = newFamily("mine_vehicle_person_distance_meters",
		"Distance in 3D from a vehicle to the nearest live person tag of its mine.",
		prometheus.GaugeValue, "mine_id", "vehicle")
	equipmentDisplacement = newFamily("mine_equipment_displacement_meters",
		"Distance in 3D of an equipment tag from its registered position.",
		prometheus.GaugeValue, "mine_id", "equipment")
	areaPersons        = sharedFamily(minemetrics.AreaPersons)
	areaLimit          = sharedFamily(minemetrics.AreaPersonsLimit)
	undergroundPersons = sharedFamily(minemetrics.UndergroundPersons)
	restrictedPersons  = sharedFamily(minemetrics.RestrictedAreaPersons)
	tagsByKind         = newFamily("mine_positioning_tags",
		"Live tags of a mine by kind.",
		prometheus.GaugeValue, "mine_id", "kind")
	lowBattery = newFamily("mine_positioning_tags_low_battery",
		"Live tags whose battery is below the configured low_battery_percent.",
		prometheus.GaugeValue, "mine_id", "kind")
	messages = newFamily("mine_positioning_messages_total",
		"Tag messages decoded and applied to the live state.",
		prometheus.CounterValue, "mine_id")
	rejected = newFamily("mine_positioning_tags_rejected_total",
		"Messages of new tags rejected because the live state held max_tags tags.",
		prometheus.CounterValue, "mine_id")
	feedTime = sharedFamily(minemetrics.FeedLastDataTimestamp)
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
	// textBytes are the sizes of each family's text in the last Expose,
	// so that the next one allocates its buffers once.
	textBytes []atomic.Int64
}

// NewCollector returns a collector of state. reg may be nil.
func NewCollector(state *State, reg *registry.Holder, cfg *Config, now func() time.Time) *Collector {
	eq := map[tagKey][3]float64{}
	for _, e := range cfg.Equipment {
		eq[tagKey{e.MineID, e.Tag}] = [3]float64{e.X, e.Y, e.Z}
	}
	return &Collector{state: state, registry: reg, equipment: eq, lowBatt: cfg.LowBatteryPercent,
		cell: cfg.GridCellMeters, now: now, textBytes: make([]atomic.Int64, len(families))}
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
	c.expose(metricSink(ch))
}

// expose computes the series of the live state at the collector's clock
// and adds them to out. Tags and mines come in id order, so that the text
// output is the same for the same state.
func (c *Collector) expose(out sink) {
	now := c.now()
	snap := c.state.snapshot(now)
	// Sorting pointers moves 8 bytes per swap instead of a whole tag.
	tags := make([]*tagState, len(snap.tags))
	for i := range snap.tags {
		tags[i] = &snap.tags[i]
	}
	slices.SortFunc(tags, func(a, b *tagState) int {
		if n := strings.Compare(a.MineID, b.MineID); n != 0 {
			return n
		}
		return strings.Compare(a.TagID, b.TagID)
	})

	views := map[string]*mineView{}
	for id := range snap.mines {
		views[id] = &mineView{areas: map[[2]string]int{}, tags: map[string]int{}, lowBattery: map[string]int{}}
	}
	for _, t := range tags {
		v := views[t.MineID]
		v.tags[t.Kind]++
		if t.Battery >= 0 {
			out.add(battery, t.Battery/100, t.MineID, t.TagID, t.Kind)
			if t.Battery < c.lowBatt {
				v.lowBattery[t.Kind]++
			}
		}
		pos := [3]float64{t.X, t.Y, t.Z}
		switch t.Kind {
		case KindPerson:
			c.exposePerson(out, t, pos, now)
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
				out.add(vehiclePosition, pos[a], t.MineID, t.TagID, axes[a])
			}
		case KindEquipment:
			for a := range axes {
				out.add(equipmentPosition, pos[a], t.MineID, t.TagID, axes[a])
			}
			if ref, ok := c.equipment[tagKey{t.MineID, t.TagID}]; ok {
				out.add(equipmentDisplacement, distance(pos, ref), t.MineID, t.TagID)
			}
		}
	}

	indexes := map[string]*grid{}
	for _, t := range tags {
		if t.Kind != KindVehicle {
			continue
		}
		g := indexes[t.MineID]
		if g == nil {
			g = newGrid(c.cell, views[t.MineID].persons)
			indexes[t.MineID] = g
		}
		if d, ok := g.nearest([3]float64{t.X, t.Y, t.Z}); ok {
			out.add(vehicleDistance, d, t.MineID, t.TagID)
		}
	}

	ids := make([]string, 0, len(snap.mines))
	for id := range snap.mines {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.exposeMine(out, id, snap.mines[id], views[id])
	}
}

func (c *Collector) exposePerson(out sink, t *tagState, pos [3]float64, now time.Time) {
	for a := range axes {
		out.add(personPosition, pos[a], t.MineID, t.TagID, axes[a], uwb)
	}
	sos := 0.0
	if t.SOS {
		sos = 1
	}
	out.add(personSOS, sos, t.MineID, t.TagID, uwb)
	out.add(personUnderground, math.Max(0, now.Sub(t.Since).Seconds()), t.MineID, t.TagID, uwb)
}

// exposeMine adds the per-mine aggregates. Every area of the mine's plan
// is exposed, with 0 persons when empty, so a rule or a map sees an area
// go back to 0 instead of its series ending.
func (c *Collector) exposeMine(out sink, id string, mc mineCounts, v *mineView) {
	out.add(messages, float64(mc.messages), id)
	out.add(rejected, float64(mc.rejected), id)
	if !mc.lastData.IsZero() {
		out.add(feedTime, float64(mc.lastData.UnixMilli())/1000, id, FeedName)
	}
	out.add(undergroundPersons, float64(v.underground), id, uwb)
	out.add(restrictedPersons, float64(v.restricted), id, uwb)
	for _, kind := range kindValues {
		out.add(tagsByKind, float64(v.tags[kind]), id, kind)
		out.add(lowBattery, float64(v.lowBattery[kind]), id, kind)
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
			out.add(areaPersons, float64(v.areas[[2]string{a.Code, a.Type}]), id, a.Code, a.Type, uwb)
			limit := a.Limit
			if l, ok := overrides[a.Code]; ok {
				limit = l
			}
			if limit >= 0 {
				out.add(areaLimit, float64(limit), id, a.Code, a.Type, uwb)
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
		out.add(areaPersons, float64(v.areas[k]), id, k[0], k[1], uwb)
		if l, ok := overrides[k[0]]; ok {
			out.add(areaLimit, float64(l), id, k[0], k[1], uwb)
		}
	}
}

func distance(a, b [3]float64) float64 {
	return math.Sqrt(sq(a[0]-b[0]) + sq(a[1]-b[1]) + sq(a[2]-b[2]))
}
