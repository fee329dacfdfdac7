package dashboards_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/dashboards/internal/vmtest"
)

// sampleValues replaces the dashboard and Grafana variables in queries.
// city and county take the All value (.*), as on a fresh dashboard.
var sampleValues = map[string]string{
	"mine_id":         "320382000101",
	"city":            ".*",
	"county":          ".*",
	"__interval":      "1m",
	"__interval_ms":   "60000",
	"__rate_interval": "1m",
	"__range":         "1h",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

var variableRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

// substitute replaces every $name and ${name} with values[name] and
// returns an error naming each variable without a value.
func substitute(expr string, values map[string]string) (string, error) {
	var unknown []string
	out := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2]
		v, ok := values[name]
		if !ok {
			unknown = append(unknown, ref)
			return ref
		}
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("no sample value for %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

// apiResponse is the envelope of the Prometheus query API.
type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s vectorSample) number(t *testing.T) float64 {
	t.Helper()
	text, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		t.Fatalf("sample value %v is not a number", s.Value[1])
	}
	return v
}

// get calls the query API and returns its data, failing the test unless
// the status is success.
func get(t *testing.T, base, path string, params url.Values, what string) json.RawMessage {
	t.Helper()
	resp, err := http.Get(base + path + "?" + params.Encode())
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the response: %v", what, err)
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Errorf("%s: %s returned %s, not JSON: %.300s", what, path, resp.Status, body)
		return nil
	}
	if r.Status != "success" {
		t.Errorf("%s: %s returned status %q (%s: %s)", what, path, r.Status, r.ErrorType, r.Error)
		return nil
	}
	return r.Data
}

// Sample series of the two sample mines, one per minute over the last 20
// minutes: mine 320382000101 produces with an overcrowded working face,
// mine 320382000202 is under an ordered shutdown with its hoist running.
func sampleSeries(now time.Time) string {
	type series struct {
		labels string
		value  func(minute int) float64
	}
	constant := func(v float64) func(int) float64 { return func(int) float64 { return v } }
	const (
		mine1 = `mine_id="320382000101"`
		mine2 = `mine_id="320382000202"`
	)
	list := []series{
		{`mine_info{` + mine1 + `,mine_name="示例一号煤矿",kind="coal",city="徐州市",county="邳州市",job="registry",instance="a"}`, constant(1)},
		{`mine_info{` + mine2 + `,mine_name="示例二号煤矿",kind="coal",city="徐州市",county="邳州市",job="registry",instance="a"}`, constant(1)},
		{`mine_status{` + mine1 + `,status="producing"}`, constant(1)},
		{`mine_status{` + mine2 + `,status="ordered_shutdown"}`, constant(1)},
		{`mine_underground_persons_limit{` + mine1 + `}`, constant(120)},
		{`mine_underground_persons_limit{` + mine2 + `}`, constant(80)},
		{`mine_underground_persons{` + mine1 + `,source="station"}`, constant(20)},
		{`mine_underground_persons{` + mine1 + `,source="uwb"}`, constant(24)},
		{`mine_underground_persons{` + mine2 + `,source="station"}`, constant(9)},
		{`mine_area_persons{` + mine1 + `,area="3203820001010004",area_type="key",source="station"}`, constant(18)},
		{`mine_area_persons_limit{` + mine1 + `,area="3203820001010004",area_type="key",source="station"}`, constant(16)},
		{`mine:production_evidence:bool{` + mine2 + `,evidence="power_hoist_running"}`, constant(1)},
		{`mine:production_evidence:bool{` + mine2 + `,evidence="video_truck_out"}`, constant(0)},
		{`ALERTS{alertname="overcrowding_area",alertstate="firing",alertgroup="persons",violation="overcrowding_area",` +
			`severity="warning",` + mine1 + `,mine_name="示例一号煤矿",city="徐州市",county="邳州市",area="3203820001010004"}`, constant(1)},
		{`ALERTS{alertname="secret_operation",alertstate="firing",alertgroup="secret_operation",violation="secret_operation",` +
			`severity="critical",` + mine2 + `,mine_name="示例二号煤矿",city="徐州市",county="邳州市"}`, constant(1)},
		{`mine_output_tonnes_total{` + mine1 + `,source="cdss"}`, func(m int) float64 { return 5000 + 10*float64(m) }},
		{`mine_power_active_watts{` + mine1 + `,terminal="t-hoist",machine="main_hoist"}`, constant(850000)},
		{`mine_machine_running{` + mine1 + `,terminal="t-hoist",machine="main_hoist"}`, constant(1)},
		{`mine_camera_up{` + mine1 + `,camera="belt-1"}`, constant(1)},
		{`mine_video_event_active{` + mine1 + `,camera="belt-1",event="belt_running"}`, constant(1)},
	}
	var b strings.Builder
	for minute := 20; minute >= 1; minute-- {
		ts := now.Add(-time.Duration(minute) * time.Minute)
		for _, s := range list {
			fmt.Fprintf(&b, "%s %g %d\n", s.labels, s.value(20-minute), ts.UnixMilli())
		}
		fmt.Fprintf(&b, "mine_feed_last_data_timestamp_seconds{%s,feed=\"RYSS\"} %d %d\n",
			mine1, ts.Unix(), ts.UnixMilli())
	}
	return b.String()
}

// startWithSamples starts VictoriaMetrics with the sample series.
func startWithSamples(t *testing.T) *vmtest.Server {
	t.Helper()
	vm := vmtest.Start(t, repoRoot)
	vm.Import(t, sampleSeries(time.Now()))
	return vm
}

// Every query of every panel parses and runs on a real VictoriaMetrics:
// instant queries through /api/v1/query, range queries through
// /api/v1/query_range as well.
func TestQueriesRunOnVictoriaMetrics(t *testing.T) {
	vm := startWithSamples(t)
	now := time.Now()

	count := 0
	for _, d := range renderAll(t) {
		for _, q := range queries(d.uid, d.json) {
			count++
			expr, err := substitute(q.expr, sampleValues)
			if err != nil {
				t.Errorf("%s: %v", q, err)
				continue
			}
			get(t, vm.URL, "/api/v1/query", url.Values{"query": {expr}}, q.String())
			if !q.instant {
				get(t, vm.URL, "/api/v1/query_range", url.Values{
					"query": {expr},
					"start": {strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)},
					"end":   {strconv.FormatInt(now.Unix(), 10)},
					"step":  {"60"},
				}, q.String()+" (range)")
			}
		}
	}
	if count < 40 {
		t.Errorf("found only %d queries in the dashboards: the panel walk misses some", count)
	}
}

// Every label_values variable runs as a label values request, and the
// chain city -> county -> mine_id lists the sample mines.
func TestVariablesListSampleMines(t *testing.T) {
	vm := startWithSamples(t)
	labelValues := regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)
	values := map[string]string{"city": "徐州市", "county": "邳州市"}

	for _, d := range renderAll(t) {
		for name, v := range variables(d.json) {
			if v["type"] != "query" {
				continue
			}
			m := labelValues.FindStringSubmatch(variableQuery(v))
			if m == nil {
				t.Errorf("%s: variable %s query %q is not label_values(selector, label)", d.uid, name, variableQuery(v))
				continue
			}
			selector, err := substitute(m[1], values)
			if err != nil {
				t.Errorf("%s: variable %s: %v", d.uid, name, err)
				continue
			}
			data := get(t, vm.URL, "/api/v1/label/"+m[2]+"/values", url.Values{"match[]": {selector}},
				d.uid+" variable "+name)
			var got []string
			if err := json.Unmarshal(data, &got); err != nil {
				t.Errorf("%s: variable %s: label values %s: %v", d.uid, name, data, err)
				continue
			}
			want := map[string][]string{
				"city":    {"徐州市"},
				"county":  {"邳州市"},
				"mine_id": {"320382000101", "320382000202"},
			}[name]
			if !slices.Equal(got, want) {
				t.Errorf("%s: variable %s lists %v, want %v", d.uid, name, got, want)
			}
		}
	}
}

// findQuery returns the query of a panel by dashboard uid, panel title
// and refId.
func findQuery(t *testing.T, uid, panel, refID string) string {
	t.Helper()
	for _, d := range renderAll(t) {
		for _, q := range queries(d.uid, d.json) {
			if d.uid == uid && q.panel == panel && q.refID == refID {
				expr, err := substitute(q.expr, sampleValues)
				if err != nil {
					t.Fatal(err)
				}
				return expr
			}
		}
	}
	t.Fatalf("no query %s in panel %q of %s", refID, panel, uid)
	return ""
}

func instantVector(t *testing.T, vm *vmtest.Server, expr, what string) []vectorSample {
	t.Helper()
	data := get(t, vm.URL, "/api/v1/query", url.Values{"query": {expr}}, what)
	var r struct {
		ResultType string         `json:"resultType"`
		Result     []vectorSample `json:"result"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return r.Result
}

// Key panels return the values the sample data implies, so a query that
// runs but joins or reduces wrongly fails here.
func TestPanelsShowSampleMines(t *testing.T) {
	vm := startWithSamples(t)

	t.Run("persons against limit", func(t *testing.T) {
		got := instantVector(t, vm, findQuery(t, "minewatch-overview",
			"Persons underground against the approved limit", "ratio"), "ratio")
		byMine := map[string]float64{}
		for _, s := range got {
			byMine[s.Metric["mine_id"]] = s.number(t)
			if s.Metric["mine_name"] == "" || s.Metric["county"] != "邳州市" {
				t.Errorf("row %v lacks the registry's name and county", s.Metric)
			}
		}
		// max of station (20) and uwb (24) over the limit 120.
		if byMine["320382000101"] != 0.2 {
			t.Errorf("mine 320382000101 ratio = %v, want 0.2", byMine["320382000101"])
		}
		if byMine["320382000202"] != 9.0/80 {
			t.Errorf("mine 320382000202 ratio = %v, want %v", byMine["320382000202"], 9.0/80)
		}
	})

	t.Run("shutdown mines evidence", func(t *testing.T) {
		got := instantVector(t, vm, findQuery(t, "minewatch-overview", "Mines under ordered shutdown", "evidence"),
			"evidence")
		if len(got) != 1 {
			t.Fatalf("got %d rows %v, want the one ordered-shutdown mine", len(got), got)
		}
		if got[0].Metric["mine_id"] != "320382000202" {
			t.Errorf("row is mine %s, want 320382000202", got[0].Metric["mine_id"])
		}
		if got[0].number(t) != 1 {
			t.Errorf("evidence holding = %v, want 1 (power_hoist_running)", got[0].number(t))
		}
	})

	t.Run("shutdown mines alert", func(t *testing.T) {
		got := instantVector(t, vm, findQuery(t, "minewatch-overview", "Mines under ordered shutdown", "alert"),
			"alert")
		if len(got) != 1 || got[0].number(t) != 1 {
			t.Errorf("got %v, want mine 320382000202 with secret_operation firing (1)", got)
		}
	})

	t.Run("violations by place", func(t *testing.T) {
		got := instantVector(t, vm, findQuery(t, "minewatch-overview",
			"Firing violations by city, county and violation", "A"), "violations")
		if len(got) != 2 {
			t.Fatalf("got %d rows %v, want overcrowding_area and secret_operation", len(got), got)
		}
		for _, s := range got {
			if s.Metric["county"] != "邳州市" || s.number(t) != 1 {
				t.Errorf("row %v = %v, want county 邳州市 with 1 alert", s.Metric, s.number(t))
			}
		}
	})

	t.Run("area against limit", func(t *testing.T) {
		got := instantVector(t, vm, findQuery(t, "minewatch-mine", "Persons per area against limit", "ratio"),
			"area ratio")
		if len(got) != 1 || got[0].Metric["area"] != "3203820001010004" || got[0].number(t) != 18.0/16 {
			t.Errorf("got %v, want area 3203820001010004 at 18/16", got)
		}
	})

	t.Run("mine map alerts", func(t *testing.T) {
		got := instantVector(t, vm, findQuery(t, "minewatch-mine", "Mine map", "alerts"), "map alerts")
		if len(got) != 1 || got[0].Metric["violation"] != "overcrowding_area" {
			t.Errorf("got %v, want the overcrowding_area alert of mine 320382000101", got)
		}
	})
}
