package app

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/minewatch/minewatch/exporters/minemetrics"
	"github.com/minewatch/minewatch/exporters/positioning"
)

// smallGeneration returns a generation whose registry holds station
// series of two families that the positioning source exports too, and
// whose positioning state holds person P1 of mine 320382000101 with SOS.
func smallGeneration(t *testing.T, national *prometheus.Registry) *Generation {
	t.Helper()
	now := time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	state := positioning.NewState(nil, 10, time.Minute)
	state.Apply(positioning.Update{MineID: "320382000101", TagID: "P1", Kind: positioning.KindPerson,
		X: 1040.5, Y: 500, Z: -430, Time: now.Add(-time.Second), Battery: -1, SOS: true}, now.Add(-30*time.Second))
	c := positioning.NewCollector(state, nil, &positioning.Config{GridCellMeters: 50}, clock)
	exp := &exposition{gatherer: mergedGatherer{gatherers: []prometheus.Gatherer{national}},
		exposers: []Exposer{positioningExposer(c)}}
	return &Generation{exposition: exp}
}

// get serves one request to h and returns the response.
func get(h http.Handler, header http.Header) *http.Response {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestMetricsHandlerJoinsSharedFamily(t *testing.T) {
	national := prometheus.NewRegistry()
	sos := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: minemetrics.PersonSOS.Name, Help: minemetrics.PersonSOS.Help},
		minemetrics.PersonSOS.LabelNames())
	persons := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: minemetrics.UndergroundPersons.Name,
		Help: minemetrics.UndergroundPersons.Help}, minemetrics.UndergroundPersons.LabelNames())
	national.MustRegister(sos, persons)
	sos.WithLabelValues("320382000101", "C7", minemetrics.SourceStation).Set(0)
	persons.WithLabelValues("320382000101", minemetrics.SourceStation).Set(31)

	var logs bytes.Buffer
	h := smallGeneration(t, national).MetricsHandler(slog.New(slog.NewTextHandler(&logs, nil)))
	resp := get(h, nil)
	body, _ := io.ReadAll(resp.Body)
	want := `# HELP mine_feed_last_data_timestamp_seconds Data time of the newest data of a feed (national file type, MQTT topic group, terminal group), Unix seconds.
# TYPE mine_feed_last_data_timestamp_seconds gauge
mine_feed_last_data_timestamp_seconds{feed="mqtt_positioning",mine_id="320382000101"} 1.795183199e+09
# HELP mine_person_position_meters Position of a card on the mine grid, in metres; source station is its station's RYJZ coordinates, moved along the plan's tunnel by the RYSS signed distance where a plan is configured; uwb is the last UWB fix.
# TYPE mine_person_position_meters gauge
mine_person_position_meters{axis="x",card="P1",mine_id="320382000101",source="uwb"} 1040.5
mine_person_position_meters{axis="y",card="P1",mine_id="320382000101",source="uwb"} 500
mine_person_position_meters{axis="z",card="P1",mine_id="320382000101",source="uwb"} -430
# HELP mine_person_sos 1 while a card raises SOS, else 0.
# TYPE mine_person_sos gauge
mine_person_sos{card="C7",mine_id="320382000101",source="station"} 0
mine_person_sos{card="P1",mine_id="320382000101",source="uwb"} 1
# HELP mine_person_underground_seconds Seconds since a card went underground, at the data's time.
# TYPE mine_person_underground_seconds gauge
mine_person_underground_seconds{card="P1",mine_id="320382000101",source="uwb"} 30
# HELP mine_positioning_messages_total Tag messages decoded and applied to the live state.
# TYPE mine_positioning_messages_total counter
mine_positioning_messages_total{mine_id="320382000101"} 1
# HELP mine_positioning_tags Live tags of a mine by kind.
# TYPE mine_positioning_tags gauge
mine_positioning_tags{kind="person",mine_id="320382000101"} 1
mine_positioning_tags{kind="vehicle",mine_id="320382000101"} 0
mine_positioning_tags{kind="equipment",mine_id="320382000101"} 0
# HELP mine_positioning_tags_low_battery Live tags whose battery is below the configured low_battery_percent.
# TYPE mine_positioning_tags_low_battery gauge
mine_positioning_tags_low_battery{kind="person",mine_id="320382000101"} 0
mine_positioning_tags_low_battery{kind="vehicle",mine_id="320382000101"} 0
mine_positioning_tags_low_battery{kind="equipment",mine_id="320382000101"} 0
# HELP mine_positioning_tags_rejected_total Messages of new tags rejected because the live state held max_tags tags.
# TYPE mine_positioning_tags_rejected_total counter
mine_positioning_tags_rejected_total{mine_id="320382000101"} 0
# HELP mine_restricted_area_persons Persons in restricted areas (area_type restricted).
# TYPE mine_restricted_area_persons gauge
mine_restricted_area_persons{mine_id="320382000101",source="uwb"} 0
# HELP mine_underground_persons Persons underground, from the latest positioning data of the source.
# TYPE mine_underground_persons gauge
mine_underground_persons{mine_id="320382000101",source="station"} 31
mine_underground_persons{mine_id="320382000101",source="uwb"} 1
`
	if string(body) != want {
		t.Errorf("body:\n%s\nwant:\n%s", body, want)
	}
	if got := resp.Header.Get("Content-Type"); got != textContentType {
		t.Errorf("Content-Type %q, want %q", got, textContentType)
	}
	if logs.Len() > 0 {
		t.Errorf("unexpected errors logged: %s", logs.String())
	}
}

func TestMetricsHandlerDropsDuplicateSeries(t *testing.T) {
	other := prometheus.NewRegistry()
	sos := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: minemetrics.PersonSOS.Name, Help: "another help text"},
		minemetrics.PersonSOS.LabelNames())
	tags := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mine_positioning_tags", Help: "tags"},
		[]string{"mine_id"})
	other.MustRegister(sos, tags)
	sos.WithLabelValues("320382000101", "P1", minemetrics.SourceUWB).Set(0)
	tags.WithLabelValues("320382000101").Add(5)

	var logs bytes.Buffer
	h := smallGeneration(t, other).MetricsHandler(slog.New(slog.NewTextHandler(&logs, nil)))
	body, _ := io.ReadAll(get(h, nil).Body)
	for _, want := range []string{
		"# HELP mine_person_sos another help text\n# TYPE mine_person_sos gauge\n" +
			`mine_person_sos{card="P1",mine_id="320382000101",source="uwb"} 0` + "\n# HELP",
		"# TYPE mine_positioning_tags counter\n" + `mine_positioning_tags{mine_id="320382000101"} 5` + "\n# HELP",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body does not contain %q:\n%s", want, body)
		}
	}
	for _, want := range []string{
		`series mine_person_sos{card=\"P1\",mine_id=\"320382000101\",source=\"uwb\"} is exported by two sources`,
		"metric family mine_positioning_tags is a COUNTER in one source and a GAUGE in another",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, logs.String())
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := parser.TextToMetricFamilies(bytes.NewReader(body)); err != nil {
		t.Errorf("body does not parse: %v", err)
	}
}

func TestMetricsHandlerNegotiation(t *testing.T) {
	h := smallGeneration(t, prometheus.NewRegistry()).MetricsHandler(slog.New(slog.DiscardHandler))
	plain, _ := io.ReadAll(get(h, nil).Body)

	// Protobuf and OpenMetrics requests get the text format, which
	// Prometheus accepts from any target.
	resp := get(h, http.Header{"Accept": {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;q=0.5"}})
	if got := resp.Header.Get("Content-Type"); got != textContentType {
		t.Errorf("Content-Type for a protobuf request %q, want %q", got, textContentType)
	}

	resp = get(h, http.Header{"Accept-Encoding": {"deflate, gzip;q=0.8"}})
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", got)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain) {
		t.Errorf("gzip body differs from the plain body:\n%s", unzipped)
	}

	resp = get(h, http.Header{"Accept-Encoding": {"gzip;q=0"}})
	if got := resp.Header.Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding %q for gzip;q=0, want none", got)
	}
}

// TestMetrics10kTagsParse scrapes /metrics of a generation with the
// national sample files and 10,000 UWB tags from a real broker, and parses
// it with the Prometheus text parser.
func TestMetrics10kTagsParse(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 10,000 tags through Mosquitto")
	}
	ex := startLiveExporter(t, time.Hour)
	ex.publishTags(t, 10000)
	body := ex.scrape(t)

	lines := checkContiguous(t, body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	perTag := map[string]int{}
	station := 0
	for _, f := range families {
		switch f.GetType() {
		case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM:
			continue // several lines per series
		}
		if len(f.GetMetric()) != lines[f.GetName()] {
			t.Errorf("family %s: %d series parsed from %d sample lines", f.GetName(), len(f.GetMetric()), lines[f.GetName()])
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "card", "vehicle", "equipment", "tag":
					if strings.HasPrefix(l.GetValue(), "T") {
						perTag[l.GetValue()]++
					}
				case "source":
					if l.GetValue() == minemetrics.SourceStation && f.GetName() == minemetrics.PersonPosition.Name {
						station++
					}
				}
			}
		}
	}
	if len(perTag) != 10000 {
		t.Errorf("%d tags on /metrics, want 10000", len(perTag))
	}
	total := 0
	for tag, n := range perTag {
		total += n
		if n > 6 {
			t.Errorf("tag %s has %d series, at most 6 allowed", tag, n)
		}
	}
	// 9,800 persons: position x, y, z, SOS, time underground, battery;
	// 200 vehicles: position x, y, z, battery, distance to the nearest
	// person.
	if want := 9800*6 + 200*5; total != want {
		t.Errorf("%d series of UWB tags, want %d", total, want)
	}
	if station == 0 {
		t.Errorf("no station series in %s: the national files' series are missing", minemetrics.PersonPosition.Name)
	}
}

// checkContiguous checks that every family has one TYPE line and that
// its samples follow it with no other family in between, and returns the
// number of sample lines of each family.
func checkContiguous(t *testing.T, body string) map[string]int {
	t.Helper()
	lines := map[string]int{}
	typed := map[string]bool{}
	current := ""
	for i, line := range strings.Split(body, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ = strings.Cut(name, " ")
			if typed[name] {
				t.Errorf("line %d: second TYPE line of %s", i+1, name)
			}
			typed[name] = true
			current = name
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if strings.HasSuffix(name, suffix) && strings.TrimSuffix(name, suffix) == current {
				base = current
			}
		}
		if base != current {
			t.Fatalf("line %d: sample of %s inside family %s", i+1, name, current)
		}
		lines[current]++
	}
	return lines
}
