package dashboards_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/minewatch/minewatch/dashboards"
)

// repoRoot is the repository root, because go test runs in the
// dashboards folder.
var repoRoot = filepath.Join("..")

// rendered is one dashboard as Grafana reads it.
type rendered struct {
	uid  string
	data []byte
	json map[string]any
}

func renderAll(t *testing.T) []rendered {
	t.Helper()
	var out []rendered
	for _, b := range dashboards.All() {
		uid, data, err := dashboards.Render(b)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("dashboard %s is not valid JSON: %v", uid, err)
		}
		out = append(out, rendered{uid: uid, data: data, json: m})
	}
	return out
}

// panels returns every panel of a dashboard, those nested in collapsed
// rows included, rows excluded.
func panels(d map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range list(d["panels"]) {
		panel := p.(map[string]any)
		if panel["type"] == "row" {
			for _, nested := range list(panel["panels"]) {
				out = append(out, nested.(map[string]any))
			}
			continue
		}
		out = append(out, panel)
	}
	return out
}

// query is one target of a panel.
type query struct {
	dashboard string
	panel     string
	refID     string
	expr      string
	instant   bool
}

func (q query) String() string {
	return q.dashboard + " / " + q.panel + " / " + q.refID
}

func queries(uid string, d map[string]any) []query {
	var out []query
	for _, p := range panels(d) {
		for _, tg := range list(p["targets"]) {
			target := tg.(map[string]any)
			expr, _ := target["expr"].(string)
			refID, _ := target["refId"].(string)
			instant, _ := target["instant"].(bool)
			title, _ := p["title"].(string)
			out = append(out, query{dashboard: uid, panel: title, refID: refID, expr: expr, instant: instant})
		}
	}
	return out
}

// variables returns the template variables of a dashboard by name.
func variables(d map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	templating, _ := d["templating"].(map[string]any)
	for _, v := range list(templating["list"]) {
		variable := v.(map[string]any)
		out[variable["name"].(string)] = variable
	}
	return out
}

// variableQuery returns the query text of a query variable.
func variableQuery(v map[string]any) string {
	switch q := v["query"].(type) {
	case string:
		return q
	case map[string]any:
		s, _ := q["query"].(string)
		return s
	}
	return ""
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}
