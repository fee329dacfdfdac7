// Package minemetrics defines the metrics that more than one source
// exports: the person counts and positions that come from national files
// and from UWB positioning, the output estimates from CDSS files and belt
// energy, and the feed times every source reports. One
// definition keeps their names, help texts and label sets identical, which
// the Prometheus client requires when both sources run in one exporter.
package minemetrics

import "github.com/prometheus/client_golang/prometheus"

// Values of the source label on person metrics. Station-level data comes
// from national RYSS files (a card is placed at its station); UWB data
// comes from MQTT fixes with metre accuracy.
const (
	SourceStation = "station"
	SourceUWB     = "uwb"
)

// Def is one shared metric. Labels excludes mine_id, which every metric
// carries first.
type Def struct {
	Name   string
	Help   string
	Labels []string
}

// LabelNames returns mine_id followed by the metric's own labels.
func (d Def) LabelNames() []string {
	return append([]string{"mine_id"}, d.Labels...)
}

// Desc returns the metric's descriptor.
func (d Def) Desc() *prometheus.Desc {
	return prometheus.NewDesc(d.Name, d.Help, d.LabelNames(), nil)
}

// The shared metrics. The source label distinguishes station-level from
// UWB data, so that both can run for one mine without clashing series.
// Rules reduce it with max by (...).
var (
	UndergroundPersons = Def{"mine_underground_persons",
		"Persons underground, from the latest positioning data of the source.",
		[]string{"source"}}
	AreaPersons = Def{"mine_area_persons",
		"Persons in an area, from the latest positioning data of the source.",
		[]string{"area", "area_type", "source"}}
	AreaPersonsLimit = Def{"mine_area_persons_limit",
		"Approved persons of an area: the registry's area_limits, else the source's own figure (RYQY file or mine plan).",
		[]string{"area", "area_type", "source"}}
	RestrictedAreaPersons = Def{"mine_restricted_area_persons",
		"Persons in restricted areas (area_type restricted).",
		[]string{"source"}}
	PersonSOS = Def{"mine_person_sos",
		"1 while a card raises SOS, else 0.",
		[]string{"card", "source"}}
	PersonUndergroundSeconds = Def{"mine_person_underground_seconds",
		"Seconds since a card went underground, at the data's time.",
		[]string{"card", "source"}}
	PersonPosition = Def{"mine_person_position_meters",
		"Position of a card on the mine grid, in metres; source station is its station's RYJZ coordinates, moved along the plan's tunnel by the RYSS signed distance where a plan is configured; uwb is the last UWB fix.",
		[]string{"card", "axis", "source"}}
	OutputTonnes = Def{"mine_output_tonnes_total",
		"Cumulative output estimate in tonnes, by source: cdss sums the CDSS output points (sensor type 3001), belt_energy is main-belt energy times the mine's tonnes per kWh.",
		[]string{"source"}}
	FeedLastDataTimestamp = Def{"mine_feed_last_data_timestamp_seconds",
		"Data time of the newest data of a feed (national file type, MQTT topic group, terminal group), Unix seconds.",
		[]string{"feed"}}
)
