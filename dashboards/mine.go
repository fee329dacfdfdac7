package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// The mine of the dashboard, as a label matcher.
const theMine = `mine_id="$mine_id"`

// Mine returns the dashboard of one mine (variable mine_id): its status
// and limits, firing alerts, persons against limits, the plugin's mine map
// and rescue list, power, output, cameras and its data feeds.
func Mine() *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder("Minewatch mine").
		Uid(MineUID).
		Description("One mine: status, alerts, persons, map, power, output, cameras and feeds").
		Tags([]string{tag}).
		Editable().
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVariable()).
		Link(dashboardsMenu()).
		Link(pageLink("Rescue list", rescuePageURL, "Everyone last seen underground, with CSV export")).
		Link(pageLink("Mine plans", plansPageURL, "Plans of the mines and their validation"))
	for _, v := range regionVariables() {
		b.WithVariable(v)
	}
	b.WithVariable(mineVariable())

	b.WithRow(dashboard.NewRowBuilder("Mine $mine_id"))
	for _, p := range mineSummary() {
		b.WithPanel(p)
	}

	b.WithRow(dashboard.NewRowBuilder("Firing alerts")).
		WithPanel(mineAlerts()).
		WithPanel(mineAlertHistory())

	b.WithRow(dashboard.NewRowBuilder("Persons underground"))
	for _, p := range minePersons() {
		b.WithPanel(p)
	}

	b.WithRow(dashboard.NewRowBuilder("Mine map")).
		WithPanel(mineMapPanel("Mine map", "map", 16)).
		WithPanel(mineMapPanel("Rescue list", "rescue", 12))

	b.WithRow(dashboard.NewRowBuilder("Power"))
	for _, p := range minePower() {
		b.WithPanel(p)
	}

	b.WithRow(dashboard.NewRowBuilder("Output"))
	for _, p := range mineOutput() {
		b.WithPanel(p)
	}

	b.WithRow(dashboard.NewRowBuilder("Cameras"))
	for _, p := range mineCameras() {
		b.WithPanel(p)
	}

	b.WithRow(dashboard.NewRowBuilder("Data feeds")).
		WithPanel(mineFeeds()).
		WithPanel(mineSources())
	return b
}

// mineVariable lists the registered mines of the chosen cities and
// counties. Custom values are allowed, so a link with the code of a mine
// missing from the registry still opens its data.
func mineVariable() *dashboard.QueryVariableBuilder {
	return labelVariable("mine_id", "mine_id", `mine_info{city=~"$city", county=~"$county"}`).
		Label("Mine").
		AllowCustomValue(true)
}

// mineStat returns a stat of one number of the mine.
func mineStat(title, expr, unit string, span uint32) *stat.PanelBuilder {
	return newStat().
		Title(title).
		Datasource(datasource()).
		Height(4).Span(span).
		WithTarget(instantQuery("A", expr, "")).
		Unit(unit).
		ColorMode(common.BigValueColorModeNone)
}

// labelStat returns a stat that shows a label of the series as text.
func labelStat(title, expr, legend string, span uint32) *stat.PanelBuilder {
	return newStat().
		Title(title).
		Datasource(datasource()).
		Height(4).Span(span).
		WithTarget(instantQuery("A", expr, legend)).
		TextMode(common.BigValueTextModeName)
}

func mineSummary() []cog.Builder[dashboard.Panel] {
	name := labelStat("Mine",
		`max by (mine_id, mine_name, kind, city, county) (mine_info{`+theMine+`})`,
		"{{mine_name}} · {{kind}} · {{county}}, {{city}}", 7).
		ColorMode(common.BigValueColorModeNone)
	status := labelStat("Registry status", `max by (status) (mine_status{`+theMine+`})`, "{{status}}", 4).
		ColorMode(common.BigValueColorModeBackground).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor("blue")).
		OverrideByName("producing", fixedColor("green")).
		OverrideByName("ordered_shutdown", fixedColor("red")).
		OverrideByName("rectification", fixedColor("orange")).
		OverrideByName("closed", fixedColor("text"))
	return []cog.Builder[dashboard.Panel]{
		name,
		status,
		mineStat("Approved capacity",
			`max(mine_approved_capacity_tonnes_per_year{`+theMine+`})`, "suffix: t/year", 4),
		mineStat("Approved persons underground",
			`max(mine_underground_persons_limit{`+theMine+`})`, "none", 3),
		mineStat("Maintenance crew limit",
			`max(mine_maintenance_crew_limit{`+theMine+`})`, "none", 3),
		mineStat("Time underground limit",
			`max(mine_underground_time_limit_seconds{`+theMine+`})`, "s", 3),
	}
}

// mineFiring selects the mine's firing alerts.
const mineFiring = `ALERTS{alertstate="firing", ` + theMine + `}`

func mineAlerts() *table.PanelBuilder {
	return newTable().
		Title("Firing alerts").
		Description("Every firing alert of the mine with its labels (area, feed, machine, camera, ...).").
		Datasource(datasource()).
		Height(8).Span(14).
		WithTarget(tableQuery("A", mineFiring)).
		WithTransformation(organize(
			[]string{"Time", "Value", "__name__", "alertstate", "alertgroup", "job", "instance",
				"mine_id", "mine_name", "city", "county"},
			[]string{"violation", "severity", "alertname"},
			map[string]string{"violation": "Violation", "severity": "Severity"})).
		Filterable(true).
		NoValue("No firing alert").
		OverrideByName("Severity", severityColors())
}

func mineAlertHistory() *statetimeline.PanelBuilder {
	return newStateTimeline().
		Title("Alert history").
		Datasource(datasource()).
		Height(8).Span(10).
		WithTarget(rangeQuery("A", `max by (violation, severity) (`+mineFiring+`)`, "{{violation}} ({{severity}})")).
		Mappings(valueText([3]string{"1", "firing", "red"}))
}

// Persons of the mine, from RYSS files or UWB fixes: the source label is
// reduced with max, and the newest sample of 15 minutes (three RYSS
// files) counts.
const (
	minePersons15m      = `max by (mine_id) (last_over_time(mine_underground_persons{` + theMine + `}[15m]))`
	mineAreaPersons15m  = `max by (area, area_type) (last_over_time(mine_area_persons{` + theMine + `}[15m]))`
	mineAreaLimit1d     = `max by (area, area_type) (last_over_time(mine_area_persons_limit{` + theMine + `}[1d]))`
	minePersonsLimitMax = `max by (mine_id) (mine_underground_persons_limit{` + theMine + `})`
)

func minePersons() []cog.Builder[dashboard.Panel] {
	persons := mineStat("Persons underground", minePersons15m, "none", 4).
		ColorMode(common.BigValueColorModeValue).
		Thresholds(thresholds("blue"))
	share := mineStat("Of the approved persons",
		minePersons15m+` / `+`max by (mine_id) (mine_underground_persons_limit{`+theMine+`} > 0)`,
		"percentunit", 4).
		ColorMode(common.BigValueColorModeBackground).
		Thresholds(thresholds("green", step(0.9, "orange"), step(1, "red")))
	trend := newTimeseries().
		Title("Persons underground and limits").
		Datasource(datasource()).
		Height(8).Span(16).
		WithTarget(rangeQuery("persons", minePersons15m, "persons underground")).
		WithTarget(rangeQuery("limit", minePersonsLimitMax, "approved persons")).
		WithTarget(rangeQuery("crew",
			`max by (mine_id) (mine_maintenance_crew_limit{`+theMine+`})`, "maintenance crew limit")).
		Min(0).
		Decimals(0).
		OverrideByName("approved persons", dashedRed()).
		OverrideByName("maintenance crew limit", dashedOrange())
	areas := newTable().
		Title("Persons per area against limit").
		Description("Areas of RYQY and the plan; limit from the registry, else RYQY or the plan.").
		Datasource(datasource()).
		Height(10).Span(12).
		WithTarget(tableQuery("persons", mineAreaPersons15m)).
		WithTarget(tableQuery("limit", mineAreaLimit1d)).
		WithTarget(tableQuery("ratio", mineAreaPersons15m+` / (`+mineAreaLimit1d+` > 0)`)).
		WithTransformation(mergeTables()).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"area", "area_type", "Value #persons", "Value #limit", "Value #ratio"},
			map[string]string{
				"area": "Area", "area_type": "Area type",
				"Value #persons": "Persons", "Value #limit": "Limit", "Value #ratio": "Of limit",
			})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Of limit").Desc(true),
		}).
		Filterable(true).
		OverrideByName("Of limit", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "percentunit"},
			{Id: "thresholds", Value: mustBuild(thresholds("green", step(0.9, "orange"), step(1, "red")))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}},
		})
	areaTrend := newTimeseries().
		Title("Persons per area").
		Datasource(datasource()).
		Height(10).Span(12).
		WithTarget(rangeQuery("A", mineAreaPersons15m, "{{area}} ({{area_type}})")).
		Min(0).
		Decimals(0).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			ShowLegend(true).
			Calcs([]string{"lastNotNull", "max"}))
	return []cog.Builder[dashboard.Panel]{persons, share, trend, areas, areaTrend}
}

func minePower() []cog.Builder[dashboard.Panel] {
	power := newTimeseries().
		Title("Active power per machine").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(rangeQuery("A",
			`max by (machine, terminal) (mine_power_active_watts{`+theMine+`})`, "{{machine}} ({{terminal}})")).
		Unit("watt").
		Min(0)
	running := newStateTimeline().
		Title("Machines running").
		Description("mine_machine_running: 1 while the largest phase current is above the idle threshold.").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(rangeQuery("A",
			`max by (machine, terminal) (mine_machine_running{`+theMine+`})`, "{{machine}} ({{terminal}})")).
		Mappings(valueText([3]string{"0", "stopped", "text"}, [3]string{"1", "running", "green"}))
	energy := newTimeseries().
		Title("Hoist and belt energy per hour against the producing baseline").
		Description("Recording rules of rules/power.yml; energy far above the baseline while the mine "+
			"may not produce is production evidence.").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(rangeQuery("hour",
			`max by (mine_id) (mine:power_hoist_belt_energy_joules:increase1h{`+theMine+`})`, "last hour")).
		WithTarget(rangeQuery("baseline",
			`max by (mine_id) (mine:power_hoist_belt_energy_joules:producing_hourly_mean{`+theMine+`})`,
			"producing hourly mean (30 days)")).
		Unit("joule").
		Min(0).
		OverrideByName("producing hourly mean (30 days)", dashedOrange())
	night := newTimeseries().
		Title("Night-time hoist and belt energy share").
		Description("mine:power_night_energy_share:ratio: the last hour's energy over the producing baseline, " +
			"at night only.").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(rangeQuery("A",
			`max by (mine_id) (mine:power_night_energy_share:ratio{`+theMine+`})`, "night share")).
		Unit("percentunit").
		Min(0)
	return []cog.Builder[dashboard.Panel]{power, running, energy, night}
}

// mineOutput shows mine_output_tonnes_total per source (cdss,
// belt_energy) and the monthly limit of the over_capacity rule.
func mineOutput() []cog.Builder[dashboard.Panel] {
	hourly := newTimeseries().
		Title("Output per hour").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(rangeQuery("A",
			`max by (source) (increase(mine_output_tonnes_total{`+theMine+`}[1h]))`, "{{source}}")).
		Unit("suffix: t").
		Min(0)
	inRange := newStat().
		Title("Output in the time range").
		Description("Choose \"This month so far\" to compare with the monthly limit.").
		Datasource(datasource()).
		Height(8).Span(6).
		WithTarget(instantQuery("A",
			`max by (source) (increase(mine_output_tonnes_total{`+theMine+`}[$__range]))`, "{{source}}")).
		Unit("suffix: t").
		TextMode(common.BigValueTextModeValueAndName).
		ColorMode(common.BigValueColorModeNone)
	limit := mineStat("Monthly output limit",
		`0.1 * max(mine_approved_capacity_tonnes_per_year{`+theMine+`})`, "suffix: t", 6).
		Height(8).
		Description("10 % of the approved annual capacity, the monthly bound of the over_capacity rule.")
	return []cog.Builder[dashboard.Panel]{hourly, inRange, limit}
}

// Camera metrics of the mine, one series per camera.
func cameraExpr(metric string) string {
	return `max by (camera) (` + metric + `{` + theMine + `})`
}

func mineCameras() []cog.Builder[dashboard.Panel] {
	cameras := newTable().
		Title("Cameras").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(tableQuery("up", cameraExpr("mine_camera_up"))).
		WithTarget(tableQuery("fps", cameraExpr("mine_camera_frames_per_second"))).
		WithTarget(tableQuery("bitrate", cameraExpr("mine_camera_bitrate_bits_per_second"))).
		WithTransformation(mergeTables()).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"camera", "Value #up", "Value #fps", "Value #bitrate"},
			map[string]string{
				"camera": "Camera", "Value #up": "Stream",
				"Value #fps": "Frames per second", "Value #bitrate": "Bitrate",
			})).
		OverrideByName("Stream", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: valueText([3]string{"0", "down", "red"}, [3]string{"1", "up", "green"})},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}},
		}).
		OverrideByName("Bitrate", []dashboard.DynamicConfigValue{{Id: "unit", Value: "bps"}})
	fps := newTimeseries().
		Title("Frames per second").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(rangeQuery("A", cameraExpr("mine_camera_frames_per_second"), "{{camera}}")).
		Min(0)
	active := newStateTimeline().
		Title("Video events active").
		Description("State events of the AI analysis (belt running, dispatch room empty, camera blocked, ...).").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(rangeQuery("A",
			`max by (camera, event) (mine_video_event_active{`+theMine+`})`, "{{camera}} {{event}}")).
		Mappings(valueText([3]string{"0", "inactive", "transparent"}, [3]string{"1", "active", "orange"}))
	counts := newTable().
		Title("Video events in the time range").
		Datasource(datasource()).
		Height(8).Span(12).
		WithTarget(tableQuery("A",
			`max by (camera, event) (increase(mine_video_events_total{`+theMine+`}[$__range])) > 0`)).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"camera", "event", "Value"},
			map[string]string{"camera": "Camera", "event": "Event", "Value": "Events"})).
		Decimals(0).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Events").Desc(true),
		})
	return []cog.Builder[dashboard.Panel]{cameras, fps, active, counts}
}

func mineFeeds() *table.PanelBuilder {
	return newTable().
		Title("Newest data per feed").
		Description("Age of the newest data of each feed: national file types, power gateways, MQTT.").
		Datasource(datasource()).
		Height(8).Span(10).
		WithTarget(tableQuery("A",
			`time() - max by (feed) (last_over_time(mine_feed_last_data_timestamp_seconds{`+theMine+`}[1d]))`)).
		WithTransformation(organize(
			[]string{"Time"},
			[]string{"feed", "Value"},
			map[string]string{"feed": "Feed", "Value": "Newest data age"})).
		OverrideByName("Newest data age", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "s"},
			{Id: "thresholds", Value: mustBuild(thresholds("green", step(180, "orange"), step(900, "red")))},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		})
}

func mineSources() *statetimeline.PanelBuilder {
	return newStateTimeline().
		Title("Source targets up").
		Description("mine_source_up per source and target (terminal, file type, broker, camera stream).").
		Datasource(datasource()).
		Height(8).Span(14).
		WithTarget(rangeQuery("A",
			`max by (source, target) (mine_source_up{`+theMine+`})`, "{{source}} {{target}}")).
		Mappings(valueText([3]string{"0", "down", "red"}, [3]string{"1", "up", "green"}))
}

func dashedRed() []dashboard.DynamicConfigValue {
	return dashed("red")
}

func dashedOrange() []dashboard.DynamicConfigValue {
	return dashed("orange")
}

// dashed draws a limit line: fixed colour, dashed, no fill.
func dashed(color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}},
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
		{Id: "custom.fillOpacity", Value: 0},
	}
}
