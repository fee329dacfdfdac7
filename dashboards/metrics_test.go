package dashboards_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metricsql"
)

// documentedMetrics returns the metric names of the tables in
// docs/metrics.md with their labels, plus the recording rules of
// rules/*.yml and vmalert's ALERTS series.
func documentedMetrics(t *testing.T) (metrics, labels map[string]bool) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	metrics = map[string]bool{"ALERTS": true}
	// Labels of ALERTS (vmalert) and of every alert (the rules contract),
	// and the registry labels that rules/mine_labels.yml joins onto alerts.
	labels = map[string]bool{
		"__name__": true, "alertname": true, "alertstate": true, "alertgroup": true,
		"violation": true, "severity": true, "evidence": true,
		"mine_name": true, "city": true, "county": true,
	}
	row := regexp.MustCompile("(?m)^\\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \\| ([^|]*) \\|")
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		metrics[m[1]] = true
		for _, l := range strings.Split(m[2], ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(l), "=")
			if name = strings.Trim(name, "` "); name != "" {
				labels[name] = true
			}
		}
	}
	if len(metrics) < 40 {
		t.Fatalf("read only %d metric names from docs/metrics.md: has its table format changed?", len(metrics))
	}

	files, err := filepath.Glob(filepath.Join(repoRoot, "rules", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	record := regexp.MustCompile(`(?m)^\s*-?\s*record:\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$`)
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range record.FindAllStringSubmatch(string(text), -1) {
			metrics[m[1]] = true
		}
	}
	if !metrics["mine:production_evidence:bool"] {
		t.Fatal("no record: mine:production_evidence:bool in rules/*.yml")
	}
	return metrics, labels
}

// selectorsAndLabels parses expr as MetricsQL and returns the metric
// names it selects and every label name it filters, groups or joins on.
func selectorsAndLabels(expr string) (names, labels []string, err error) {
	e, err := metricsql.Parse(expr)
	if err != nil {
		return nil, nil, err
	}
	metricsql.VisitAll(e, func(node metricsql.Expr) {
		switch n := node.(type) {
		case *metricsql.MetricExpr:
			for _, group := range n.LabelFilterss {
				for _, f := range group {
					if f.Label == "__name__" {
						names = append(names, f.Value)
					} else {
						labels = append(labels, f.Label)
					}
				}
			}
		case *metricsql.ModifierExpr:
			labels = append(labels, n.Args...)
		}
	})
	return names, labels, nil
}

// Every metric and label a dashboard uses is documented or produced by a
// rule, so a typo in a name fails here instead of drawing an empty panel.
func TestMetricNamesDocumented(t *testing.T) {
	metrics, labels := documentedMetrics(t)

	used := map[string]bool{}
	check := func(what, expr string) {
		expr, err := substitute(expr, sampleValues)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		names, labelNames, err := selectorsAndLabels(expr)
		if err != nil {
			t.Errorf("%s: cannot parse %q: %v", what, expr, err)
			return
		}
		if len(names) == 0 {
			t.Errorf("%s: %q selects no metric", what, expr)
		}
		for _, n := range names {
			used[n] = true
			if !metrics[n] {
				t.Errorf("%s: metric %s is neither in docs/metrics.md nor a record: of rules/*.yml", what, n)
			}
		}
		for _, l := range labelNames {
			if !labels[l] {
				t.Errorf("%s: label %s is on no metric of docs/metrics.md and no alert", what, l)
			}
		}
	}

	labelValues := regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)
	for _, d := range renderAll(t) {
		for _, q := range queries(d.uid, d.json) {
			check(q.String(), q.expr)
		}
		for name, v := range variables(d.json) {
			if v["type"] != "query" {
				continue
			}
			m := labelValues.FindStringSubmatch(variableQuery(v))
			if m == nil {
				t.Errorf("%s: variable %s is not label_values(selector, label)", d.uid, name)
				continue
			}
			check(d.uid+" variable "+name, m[1])
			if !labels[m[2]] {
				t.Errorf("%s: variable %s lists label %s, which no documented metric has", d.uid, name, m[2])
			}
		}
	}

	var list []string
	for n := range used {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("metrics used: %s", strings.Join(list, " "))
}

// MetricsQL accepts some expressions whose implicit conversions give
// surprising results, such as rate(sum(x)). None may appear here.
func TestQueriesHaveNoImplicitConversion(t *testing.T) {
	for _, d := range renderAll(t) {
		for _, q := range queries(d.uid, d.json) {
			expr, err := substitute(q.expr, sampleValues)
			if err != nil {
				t.Errorf("%s: %v", q, err)
				continue
			}
			e, err := metricsql.Parse(expr)
			if err != nil {
				t.Errorf("%s: cannot parse %q: %v", q, expr, err)
				continue
			}
			if metricsql.IsLikelyInvalid(e) {
				t.Errorf("%s: %q relies on an implicit conversion", q, expr)
			}
		}
	}
}
