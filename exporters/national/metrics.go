package national

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/minemetrics"
	"github.com/minewatch/minewatch/exporters/vmimport"
)

// metricDef is a derived metric: its name, help and label names, mine_id
// first.
type metricDef struct {
	name    string
	help    string
	counter bool
	labels  []string
	desc    *prometheus.Desc
}

// sharedDef builds a metric that other sources export too, from its
// shared definition.
// station is the source label of person metrics from national files:
// their positions are station-level.
const station = minemetrics.SourceStation

func sharedDef(d minemetrics.Def) *metricDef {
	return &metricDef{name: d.Name, help: d.Help, labels: d.LabelNames(), desc: d.Desc()}
}

// counterDef is sharedDef for a counter.
func counterDef(d minemetrics.Def) *metricDef {
	m := sharedDef(d)
	m.counter = true
	return m
}

func newDef(name, help string, counter bool, labels ...string) *metricDef {
	labels = append([]string{"mine_id"}, labels...)
	return &metricDef{name: name, help: help, counter: counter, labels: labels,
		desc: prometheus.NewDesc(name, help, labels, nil)}
}

// Derived metrics. Names are shared with the rules and the Grafana plugin:
// keep them stable.
var (
	mUndergroundPersons = sharedDef(minemetrics.UndergroundPersons)
	mAreaPersons        = sharedDef(minemetrics.AreaPersons)
	mAreaLimit          = sharedDef(minemetrics.AreaPersonsLimit)
	mRestrictedPersons  = sharedDef(minemetrics.RestrictedAreaPersons)
	mPersonSOS          = sharedDef(minemetrics.PersonSOS)
	mPersonSeconds      = sharedDef(minemetrics.PersonUndergroundSeconds)
	mPersonPosition     = sharedDef(minemetrics.PersonPosition)
	mStationPosition    = newDef("mine_station_position_meters",
		"Position of a station on the mine grid from the RYJZ file.", false, "station", "axis")
	mStationUp = newDef("mine_station_up",
		"1 when a station's run state in the latest JZSS file is 0 (normal), else 0.", false, "station")
	mSensorValue = newDef("mine_sensor_value",
		"Value of a safety-monitoring point from the latest CDSS file, in the point's own unit.", false,
		"point", "sensor_type")
	mSensorStatus = newDef("mine_sensor_status",
		"Status bit mask of a CDSS point: 1 alarm, 2 power cut, 4 calibrating, 8 over range, 16 substation fault, 32 not polled, 64 paused, 128 sensor fault.", false,
		"point", "sensor_type")
	mEquipmentOn = newDef("mine_equipment_on",
		"1 when a CDSS equipment on/off point (sensor type 1004) reads on, else 0.", false, "point")
	mMainFanOn = newDef("mine_main_fan_on",
		"1 when a CDSS main fan point (sensor type 1010) reads on, else 0.", false, "point")
	mOutput   = counterDef(minemetrics.OutputTonnes)
	mFeedTime = sharedDef(minemetrics.FeedLastDataTimestamp)
	mApproved = newDef("mine_national_approved_underground_persons",
		"Approved underground persons from the RYXX header.", false)
	mRegistered = newDef("mine_national_registered_persons",
		"Persons listed in the latest RYXX file.", false)
	mAlarmsActive = newDef("mine_national_alarms_active",
		"Alarms raised by the mine's own system and not ended, in the latest alarm file of each kind.", false,
		"alarm")
)

// sample is one derived value. Label values follow def.labels.
type sample struct {
	def    *metricDef
	labels [4]string
	value  float64
	// time is the data time, Unix milliseconds.
	time int64
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func (s *sample) labelValues() []string { return s.labels[:len(s.def.labels)] }

// appendImport appends samples in the Prometheus text format with
// millisecond timestamps, as VictoriaMetrics' import API expects.
func appendImport(dst []byte, samples []sample) []byte {
	var labels []vmimport.Label
	for i := range samples {
		s := &samples[i]
		labels = labels[:0]
		for j, name := range s.def.labels {
			labels = append(labels, vmimport.Label{Name: name, Value: s.labels[j]})
		}
		dst = vmimport.AppendLine(dst, s.def.name, labels, s.value, s.time)
	}
	return dst
}

func constMetric(s *sample) (prometheus.Metric, error) {
	kind := prometheus.GaugeValue
	if s.def.counter {
		kind = prometheus.CounterValue
	}
	return prometheus.NewConstMetric(s.def.desc, kind, s.value, s.labelValues()...)
}

func itoa(n int) string { return strconv.Itoa(n) }

// counters are the ingest counters of the national source.
type counters struct {
	files   *prometheus.CounterVec
	records *prometheus.CounterVec
	flagged *prometheus.CounterVec
	// positions counts the underground cards of ingested RYSS files by how
	// they were placed.
	positions *prometheus.CounterVec
}

func newCounters(reg prometheus.Registerer) (*counters, error) {
	c := &counters{
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_national_files_total",
			Help: "National files handled, by outcome: done (ingested) or rejected.",
		}, []string{"mine_id", "type", "outcome"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_national_records_total",
			Help: "Data records of ingested national files, by outcome: ok, wrong_field_count or invalid_value (both dropped).",
		}, []string{"mine_id", "type", "outcome"}),
		flagged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_national_flagged_files_total",
			Help: "Ingested national files with a flag: unregistered_mine (mine missing in the registry) or header_time_in_future.",
		}, []string{"mine_id", "type", "flag"}),
		positions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_national_card_positions_total",
			Help: "Positions of underground cards in ingested RYSS files, by mode: tunnel (moved by the signed distance along the mine plan's tunnel) or station (the station's RYJZ coordinates: no plan, no tunnel near the station, or no distance).",
		}, []string{"mine_id", "mode"}),
	}
	for _, col := range []prometheus.Collector{c.files, c.records, c.flagged, c.positions} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return c, nil
}
