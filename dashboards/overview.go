package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// firingInRegion selects the firing alerts of vmalert in the chosen
// cities and counties. Alerts of a mine missing from the registry carry
// no city or county and show only while both variables are All.
func firingInRegion(extra string) string {
	return fmt.Sprintf(`ALERTS{alertstate="firing", city=~"$city", county=~"$county"%s}`, extra)
}

// Persons underground per mine. National RYSS files come every 5
// minutes, so the newest sample of the last 15 minutes (three files)
// counts, as in the rules and the mine map.
const personsPerMine = `max by (mine_id) (last_over_time(mine_underground_persons[15m]))`

const personsLimitPerMine = `max by (mine_id) (mine_underground_persons_limit)`

// shutdownMines is one series per mine of the region under an ordered
// shutdown (停产整顿), value 1, labelled with its name and place.
const shutdownMines = `max by (mine_id, mine_name, city, county) (
    ` + regionMines + `
    and on (mine_id) mine_status{status="ordered_shutdown"}
  )`

// feedAge is the age of the newest data of each feed of each mine, read
// over a day like the data_silent rule.
const feedAge = `time() - max by (mine_id, feed) (last_over_time(mine_feed_last_data_timestamp_seconds[1d]))`

// Overview returns the province dashboard: mines by status and kind,
// firing violations by place, persons underground against limits, silent
// feeds and ordered-shutdown mines with production evidence.
func Overview() *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder("Minewatch province overview").
		Uid(OverviewUID).
		Description("Mines, firing violations, persons underground and data feeds of the province").
		Tags([]string{tag}).
		Editable().
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVariable()).
		Link(dashboardsMenu()).
		Link(pageLink("Rescue list", rescuePageURL, "Everyone last seen underground, per mine")).
		Link(pageLink("Mine plans", plansPageURL, "Plans of the mines and their validation"))
	for _, v := range regionVariables() {
		b.WithVariable(v)
	}

	b.WithRow(dashboard.NewRowBuilder("Mines"))
	for _, p := range overviewSummary() {
		b.WithPanel(p)
	}
	b.WithPanel(minesByStatus()).
		WithPanel(minesByKind()).
		WithPanel(minesByKindAndStatus())

	b.WithRow(dashboard.NewRowBuilder("Firing violations")).
		WithPanel(violationsByName()).
		WithPanel(violationsByPlace()).
		WithPanel(violationsOverTime()).
		WithPanel(firingAlerts())

	b.WithRow(dashboard.NewRowBuilder("Persons underground")).
		WithPanel(personsAgainstLimit()).
		WithPanel(areasOverLimit())

	b.WithRow(dashboard.NewRowBuilder("Data feeds")).
		WithPanel(silentFeeds()).
		WithPanel(oldestFeeds())

	b.WithRow(dashboard.NewRowBuilder("Ordered shutdown")).
		WithPanel(shutdownMinesTable()).
		WithPanel(shutdownEvidence())
	return b
}

// summaryStat returns a single number of the province, 0 when the query
// returns nothing (count() of no series is empty, not 0).
func summaryStat(title, description, expr string, red float64) *stat.PanelBuilder {
	p := newStat().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Height(4).Span(4).
		WithTarget(instantQuery("A", expr, "")).
		NoValue("0").
		ColorMode(common.BigValueColorModeBackground)
	if red > 0 {
		p.Thresholds(thresholds("green", step(red, "red")))
	} else {
		p.Thresholds(thresholds("blue"))
	}
	return p
}

func overviewSummary() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		summaryStat("Registered mines", "Mines of mine_info in the chosen cities and counties",
			`count(`+regionMines+`)`, 0),
		summaryStat("Firing violations", "Firing alerts of every violation",
			`count(`+firingInRegion("")+`)`, 1),
		summaryStat("Mines with violations", "Mines with at least one firing alert",
			`count(count by (mine_id) (`+firingInRegion("")+`))`, 1),
		summaryStat("Persons underground", "Sum over the mines of the newest headcount (15 minutes)",
			`sum(`+inRegion(personsPerMine)+`)`, 0),
		summaryStat("Silent feeds", "Feeds with a firing data_silent alert",
			`count(`+firingInRegion(`, violation="data_silent"`)+`)`, 1),
		summaryStat("Secret operation", "Mines with a firing secret_operation alert",
			`count(count by (mine_id) (`+firingInRegion(`, violation="secret_operation"`)+`))`, 1),
	}
}

// statusPerMine is 1 per mine and its current registry status.
const statusPerMine = `max by (mine_id, status) (mine_status)`

func minesByStatus() *piechart.PanelBuilder {
	expr := `count by (status) (` + statusPerMine + ` * on (mine_id) group_left () ` + regionMines + `)`
	return piechart.NewPanelBuilder().
		Title("Mines by status").
		Datasource(datasource()).
		Height(8).Span(8).
		WithTarget(instantQuery("A", expr, "{{status}}")).
		PieType(piechart.PieChartTypeDonut).
		Tooltip(tooltip()).
		Orientation(common.VizOrientationAuto).
		DisplayLabels([]piechart.PieChartLabels{piechart.PieChartLabelsValue}).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			ShowLegend(true).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue})).
		OverrideByName("producing", fixedColor("green")).
		OverrideByName("ordered_shutdown", fixedColor("red")).
		OverrideByName("rectification", fixedColor("orange")).
		OverrideByName("closed", fixedColor("text"))
}

func minesByKind() *piechart.PanelBuilder {
	return piechart.NewPanelBuilder().
		Title("Mines by kind").
		Datasource(datasource()).
		Height(8).Span(8).
		WithTarget(instantQuery("A", `count by (kind) (`+regionMines+`)`, "{{kind}}")).
		PieType(piechart.PieChartTypeDonut).
		Tooltip(tooltip()).
		Orientation(common.VizOrientationAuto).
		DisplayLabels([]piechart.PieChartLabels{piechart.PieChartLabelsValue}).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			ShowLegend(true).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue}))
}

// minesByKindAndStatus counts mines per kind (rows) and status (columns).
func minesByKindAndStatus() *table.PanelBuilder {
	expr := `count by (kind, status) (` + statusPerMine +
		` * on (mine_id) group_left (kind) ` + regionMines + `)`
	return newTable().
		Title("Mines by kind and status").
		Datasource(datasource()).
		Height(8).Span(8).
		WithTarget(tableQuery("A", expr)).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "groupingToMatrix",
			Options: map[string]any{
				"columnField": "status",
				"rowField":    "kind",
				"valueField":  "Value",
			},
		})
}

func violationsByName() *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Title("Firing violations by violation").
		Datasource(datasource()).
		Height(9).Span(8).
		WithTarget(instantQuery("A", `count by (violation) (`+firingInRegion("")+`)`, "{{violation}}")).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Min(0).
		Thresholds(thresholds("orange"))
}

func violationsByPlace() *table.PanelBuilder {
	expr := `count by (city, county, violation, severity) (` + firingInRegion("") + `)`
	return newTable().
		Title("Firing violations by city, county and violation").
		Datasource(datasource()).
		Height(9).Span(8).
		WithTarget(tableQuery("A", expr)).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"city", "county", "violation", "severity", "Value"},
			map[string]string{
				"city": "City", "county": "County", "violation": "Violation",
				"severity": "Severity", "Value": "Alerts",
			})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Alerts").Desc(true),
		}).
		Filterable(true).
		OverrideByName("Severity", severityColors())
}

func violationsOverTime() *timeseries.PanelBuilder {
	return newTimeseries().
		Title("Firing violations over time").
		Datasource(datasource()).
		Height(9).Span(8).
		WithTarget(rangeQuery("A", `count by (violation) (`+firingInRegion("")+`)`, "{{violation}}")).
		Min(0).
		Decimals(0).
		DrawStyle(common.GraphDrawStyleLine).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true))
}

// firingAlerts lists every firing alert with its labels. Each violation
// adds its own (area, feed, machine, camera), so columns vary.
func firingAlerts() *table.PanelBuilder {
	name, links := linkColumn("Mine")
	return newTable().
		Title("Firing alerts").
		Description("Every firing alert of the region. The mine name opens the mine dashboard.").
		Datasource(datasource()).
		Height(10).Span(24).
		WithTarget(tableQuery("A", firingInRegion(""))).
		WithTransformation(organize(
			[]string{"Time", "Value", "__name__", "alertstate", "alertgroup", "job", "instance"},
			[]string{"mine_name", "mine_id", "city", "county", "violation", "severity", "alertname"},
			map[string]string{
				"mine_name": "Mine", "city": "City", "county": "County",
				"violation": "Violation", "severity": "Severity",
			})).
		Filterable(true).
		OverrideByName(name, links).
		OverrideByName("Severity", severityColors())
}

// personsAgainstLimit lists every mine's headcount against its approved
// underground persons, highest share first.
func personsAgainstLimit() *table.PanelBuilder {
	name, links := linkColumn("Mine")
	ratio := personsPerMine + ` / ` + `max by (mine_id) (mine_underground_persons_limit > 0)`
	return newTable().
		Title("Persons underground against the approved limit").
		Description("Newest headcount of each mine (15 minutes) against mine_underground_persons_limit.").
		Datasource(datasource()).
		Height(10).Span(12).
		WithTarget(tableQuery("persons", inRegion(personsPerMine))).
		WithTarget(tableQuery("limit", inRegion(personsLimitPerMine))).
		WithTarget(tableQuery("ratio", inRegion(ratio))).
		WithTransformation(mergeTables()).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"mine_name", "mine_id", "city", "county", "Value #persons", "Value #limit", "Value #ratio"},
			map[string]string{
				"mine_name": "Mine", "city": "City", "county": "County",
				"Value #persons": "Persons", "Value #limit": "Limit", "Value #ratio": "Of limit",
			})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Of limit").Desc(true),
		}).
		Filterable(true).
		OverrideByName(name, links).
		OverrideByName("Of limit", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "percentunit"},
			{Id: "thresholds", Value: mustBuild(thresholds("green", step(0.9, "orange"), step(1, "red")))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}},
		})
}

// areasOverLimit lists areas whose persons exceed their limit, the
// condition of the overcrowding_area rule.
func areasOverLimit() *table.PanelBuilder {
	name, links := linkColumn("Mine")
	expr := `max by (mine_id, area, area_type) (last_over_time(mine_area_persons[15m]))
  > on (mine_id, area, area_type)
  max by (mine_id, area, area_type) (last_over_time(mine_area_persons_limit[1d]) > 0)`
	return newTable().
		Title("Areas above their person limit").
		Datasource(datasource()).
		Height(10).Span(12).
		WithTarget(tableQuery("A", inRegion(expr))).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"mine_name", "mine_id", "area", "area_type", "Value"},
			map[string]string{"mine_name": "Mine", "area": "Area", "area_type": "Area type", "Value": "Persons"})).
		Filterable(true).
		OverrideByName(name, links)
}

// silentFeeds lists the feeds with a firing data_silent alert and the age
// of their newest data.
func silentFeeds() *table.PanelBuilder {
	name, links := linkColumn("Mine")
	expr := feedAge + `
  and on (mine_id, feed)
  ` + firingInRegion(`, violation="data_silent"`)
	return newTable().
		Title("Data-silent feeds").
		Description("Feeds whose data_silent alert fires: RYSS older than 15 minutes, JZSS or CDSS older than 3.").
		Datasource(datasource()).
		Height(9).Span(12).
		WithTarget(tableQuery("A", inRegion(expr))).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"mine_name", "mine_id", "city", "county", "feed", "Value"},
			map[string]string{
				"mine_name": "Mine", "city": "City", "county": "County",
				"feed": "Feed", "Value": "Newest data age",
			})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Newest data age").Desc(true),
		}).
		OverrideByName(name, links).
		OverrideByName("Newest data age", []dashboard.DynamicConfigValue{{Id: "unit", Value: "s"}})
}

// oldestFeeds lists the 20 feeds of any kind with the oldest newest data,
// silent or not, so a slowing feed shows before its alert fires.
func oldestFeeds() *table.PanelBuilder {
	name, links := linkColumn("Mine")
	return newTable().
		Title("Oldest feeds").
		Description("The 20 feeds whose newest data is oldest (national files, power gateways, MQTT).").
		Datasource(datasource()).
		Height(9).Span(12).
		WithTarget(tableQuery("A", `topk(20, `+inRegion(feedAge)+`)`)).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"mine_name", "mine_id", "feed", "Value"},
			map[string]string{"mine_name": "Mine", "feed": "Feed", "Value": "Newest data age"})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Newest data age").Desc(true),
		}).
		OverrideByName(name, links).
		OverrideByName("Newest data age", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "s"},
			{Id: "thresholds", Value: mustBuild(thresholds("green", step(180, "orange"), step(900, "red")))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		})
}

// shutdownMinesTable lists every ordered-shutdown mine of the region with
// the number of production evidence series that hold, whether
// secret_operation fires and its headcount. Mines without evidence or
// alert get 0 rather than dropping out.
func shutdownMinesTable() *table.PanelBuilder {
	name, links := linkColumn("Mine")
	evidence := `count by (mine_id, mine_name, city, county) (
    max by (mine_id, evidence) (mine:production_evidence:bool == 1)
    * on (mine_id) group_left (mine_name, city, county)
    ` + shutdownMines + `
  )
  or ` + shutdownMines + ` * 0`
	alert := `(
    max by (mine_id, mine_name, city, county) (ALERTS{alertstate="firing", violation="secret_operation"})
    and on (mine_id) ` + shutdownMines + `
  )
  or ` + shutdownMines + ` * 0`
	persons := personsPerMine + `
  * on (mine_id) group_left (mine_name, city, county)
  ` + shutdownMines
	return newTable().
		Title("Mines under ordered shutdown").
		Description("Evidence holding: mine:production_evidence:bool series at 1 (10 minutes of data). "+
			"Secret operation: the alert fires.").
		Datasource(datasource()).
		Height(10).Span(12).
		WithTarget(tableQuery("evidence", evidence)).
		WithTarget(tableQuery("alert", alert)).
		WithTarget(tableQuery("persons", persons)).
		WithTransformation(mergeTables()).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"mine_name", "mine_id", "city", "county", "Value #evidence", "Value #alert", "Value #persons"},
			map[string]string{
				"mine_name": "Mine", "city": "City", "county": "County",
				"Value #evidence": "Evidence holding", "Value #alert": "Secret operation",
				"Value #persons": "Persons underground",
			})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Evidence holding").Desc(true),
		}).
		OverrideByName(name, links).
		OverrideByName("Evidence holding", []dashboard.DynamicConfigValue{
			{Id: "thresholds", Value: mustBuild(thresholds("green", step(1, "red")))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}},
		}).
		OverrideByName("Secret operation", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: valueText([3]string{"0", "no", "green"}, [3]string{"1", "firing", "red"})},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}},
		})
}

// shutdownEvidence lists each production evidence series of the
// ordered-shutdown mines, holding or not.
func shutdownEvidence() *table.PanelBuilder {
	name, links := linkColumn("Mine")
	expr := `max by (mine_id, evidence) (mine:production_evidence:bool)
  * on (mine_id) group_left (mine_name, city, county)
  ` + shutdownMines
	return newTable().
		Title("Production evidence at ordered-shutdown mines").
		Description("Each source's evidence (power_hoist_running, video_truck_out, national_output_rising, ...).").
		Datasource(datasource()).
		Height(10).Span(12).
		WithTarget(tableQuery("A", expr)).
		WithTransformation(organize(
			[]string{"Time", "city", "county"},
			[]string{"mine_name", "mine_id", "evidence", "Value"},
			map[string]string{"mine_name": "Mine", "evidence": "Evidence", "Value": "Holds"})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Holds").Desc(true),
		}).
		Filterable(true).
		OverrideByName(name, links).
		OverrideByName("Holds", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: valueText([3]string{"0", "no", "green"}, [3]string{"1", "yes", "red"})},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}},
		})
}

func fixedColor(color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}},
	}
}

func severityColors() []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		{Id: "mappings", Value: valueText(
			[3]string{"critical", "critical", "red"},
			[3]string{"warning", "warning", "orange"},
		)},
		{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
	}
}

// mustBuild builds a value from constant input and panics if the SDK
// rejects it, which is a bug in this package.
func mustBuild[T any](b cog.Builder[T]) T {
	v, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("BUG: building a dashboard constant: %v", err))
	}
	return v
}
