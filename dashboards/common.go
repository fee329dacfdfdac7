// Package dashboards builds the Minewatch Grafana dashboards as code with
// the Grafana Foundation SDK. cmd/generate writes them as JSON into
// generated/, which Grafana provisions or imports.
package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Dashboard uids. The Alertmanager notification template links every
// alert to MineUID with the variable mine_id, so neither may change.
const (
	OverviewUID = "minewatch-overview"
	MineUID     = "minewatch-mine"
)

// Tag on every Minewatch dashboard, used by the dashboards' link menus.
const tag = "minewatch"

// Address of the app plugin's pages, from the plugin id
// minewatch-minewatch-app.
const (
	rescuePageURL = "/a/minewatch-minewatch-app/rescue"
	plansPageURL  = "/a/minewatch-minewatch-app/plans"
)

// datasource is the Prometheus data source every query runs on, chosen by
// the dashboard variable of the same name. VictoriaMetrics is added to
// Grafana as a Prometheus data source.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus")
}

// labelVariable returns a query variable over the values of label in the
// series of selector, for example label_values(mine_info, city).
func labelVariable(name, label, selector string) *dashboard.QueryVariableBuilder {
	query := fmt.Sprintf("label_values(%s, %s)", selector, label)
	return dashboard.NewQueryVariableBuilder(name).
		Datasource(datasource()).
		Query(dashboard.StringOrMap{Map: map[string]any{"query": query, "refId": name}}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

// regionVariables returns the chained city and county variables. Both are
// multi-value with All (regex .*, which also matches series without the
// label), and county lists only the counties of the chosen cities.
func regionVariables() []cog.Builder[dashboard.VariableModel] {
	all := dashboard.VariableOption{
		Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
		Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
	}
	city := labelVariable("city", "city", "mine_info").
		Label("City").
		Multi(true).IncludeAll(true).AllValue(".*").Current(all)
	county := labelVariable("county", "county", `mine_info{city=~"$city"}`).
		Label("County").
		Multi(true).IncludeAll(true).AllValue(".*").Current(all)
	return []cog.Builder[dashboard.VariableModel]{city, county}
}

// regionMines is one series per registered mine in the chosen cities and
// counties, value 1, with the registry's labels. mine_info may come from
// several exporters (job and instance differ), so it is reduced first.
const regionMines = `max by (mine_id, mine_name, kind, city, county) ` +
	`(mine_info{city=~"$city", county=~"$county"})`

// inRegion joins the names and places of regionMines onto every series of
// expr (several per mine are fine) and drops mines outside the region.
func inRegion(expr string) string {
	return fmt.Sprintf("%s\n  * on (mine_id) group_left (mine_name, city, county)\n  %s",
		parenthesize(expr), regionMines)
}

func parenthesize(expr string) string {
	if strings.HasPrefix(expr, "(") && strings.HasSuffix(expr, ")") {
		return expr
	}
	return "(" + expr + ")"
}

// rangeQuery returns a query drawn over the time range.
func rangeQuery(refID, expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().
		RefId(refID).
		Datasource(datasource()).
		Expr(expr).
		Range()
	if legend != "" {
		q.LegendFormat(legend)
	}
	return q
}

// instantQuery returns a query evaluated once at the end of the time range.
func instantQuery(refID, expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().
		RefId(refID).
		Datasource(datasource()).
		Expr(expr).
		Instant()
	if legend != "" {
		q.LegendFormat(legend)
	}
	return q
}

// tableQuery returns an instant query whose labels become table columns.
func tableQuery(refID, expr string) *prometheus.DataqueryBuilder {
	return instantQuery(refID, expr, "").Format(prometheus.PromQueryFormatTable)
}

// mineDashboardLink returns a data link from a table row to the mine
// dashboard of the row's mine_id column.
func mineDashboardLink() map[string]any {
	return map[string]any{
		"title": "Mine dashboard",
		"url": "/d/" + MineUID + "/mine?var-mine_id=${__data.fields.mine_id}" +
			"&var-datasource=${datasource}&${__url_time_range}",
	}
}

// linkColumn makes the named table column open the mine dashboard.
func linkColumn(column string) (string, []dashboard.DynamicConfigValue) {
	return column, []dashboard.DynamicConfigValue{
		{Id: "links", Value: []map[string]any{mineDashboardLink()}},
	}
}

// organize returns the table transformation that hides, orders and renames
// columns. Columns not named in order keep Grafana's order after them.
func organize(hide []string, order []string, rename map[string]string) dashboard.DataTransformerConfig {
	excluded := map[string]bool{}
	for _, name := range hide {
		excluded[name] = true
	}
	index := map[string]int{}
	for i, name := range order {
		index[name] = i
	}
	return dashboard.DataTransformerConfig{
		Id: "organize",
		Options: map[string]any{
			"excludeByName": excluded,
			"indexByName":   index,
			"renameByName":  rename,
		},
	}
}

// mergeTables joins the frames of several table queries into rows that
// share the same label values.
func mergeTables() dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}
}

// thresholds returns absolute thresholds: the base colour below the
// first step, then each step's colour from its value up.
func thresholds(base string, steps ...dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	list := append([]dashboard.Threshold{{Color: base}}, steps...)
	return dashboard.NewThresholdsConfigBuilder().
		Mode(dashboard.ThresholdsModeAbsolute).
		Steps(list)
}

func step(value float64, color string) dashboard.Threshold {
	return dashboard.Threshold{Value: &value, Color: color}
}

// valueText maps exact values to a text and a colour, for example 0 to
// "stopped" in grey.
func valueText(pairs ...[3]string) []dashboard.ValueMapping {
	options := map[string]dashboard.ValueMappingResult{}
	for i, p := range pairs {
		options[p[0]] = dashboard.ValueMappingResult{
			Text:  cog.ToPtr(p[1]),
			Color: cog.ToPtr(p[2]),
			Index: cog.ToPtr(int32(i)),
		}
	}
	return []dashboard.ValueMapping{{
		ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: options},
	}}
}

// dashboardsMenu links to every other Minewatch dashboard by tag, keeping
// the time range and the variables.
func dashboardsMenu() *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder("Minewatch").
		Type(dashboard.DashboardLinkTypeDashboards).
		Tags([]string{tag}).
		Icon("external link").
		Tooltip("Other Minewatch dashboards").
		AsDropdown(true).
		IncludeVars(true).
		KeepTime(true)
}

// pageLink links to a page of the app plugin.
func pageLink(title, url, tooltip string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url(url).
		Tooltip(tooltip).
		Icon("external link").
		Tags([]string{}).
		AsDropdown(false).
		IncludeVars(false).
		KeepTime(false).
		TargetBlank(false)
}

// newTable returns a table panel with its footer off. The SDK's default
// footer has a null reducer list, which its own strict schema rejects.
func newTable() *table.PanelBuilder {
	return table.NewPanelBuilder().
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).CountRows(false))
}

// The SDK's defaults leave the tooltip mode empty, the legend hidden and
// the stat orientation empty, so these constructors set Grafana's usual
// values instead.

func tooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().
		Mode(common.TooltipDisplayModeMulti).
		Sort(common.SortOrderDescending)
}

func listLegend() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().
		DisplayMode(common.LegendDisplayModeList).
		Placement(common.LegendPlacementBottom).
		ShowLegend(true)
}

func newTimeseries() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Tooltip(tooltip()).Legend(listLegend())
}

func newStateTimeline() *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().
		Tooltip(tooltip()).
		Legend(listLegend()).
		ShowValue(common.VisibilityModeNever).
		MergeValues(true)
}

func newStat() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Orientation(common.VizOrientationAuto).
		GraphMode(common.BigValueGraphModeNone).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
}
