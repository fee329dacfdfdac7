package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// MineMapPanelType is the id of the Minewatch plugin's mine map panel.
const MineMapPanelType = "minewatch-minemap-panel"

// MineMapOptions are the options of the mine map panel, as the plugin's
// src/panels/minemap/types.ts defines them.
type MineMapOptions struct {
	// Mine code, or a dashboard variable that the panel replaces.
	MineID string `json:"mineId"`
	// "map" draws the plan, "rescue" lists everyone last seen underground.
	Mode string `json:"mode"`
	// A fix older than this is drawn as stale.
	StaleAfterSeconds int `json:"staleAfterSeconds"`
	// A card this far behind the mine's newest fix has come up or is lost.
	MissingAfterSeconds int `json:"missingAfterSeconds"`
}

// MineMapVariantConfig describes the mine map panel to the SDK's runtime,
// so that dashboard JSON with the panel can be decoded, strictly too (an
// unknown option is an error).
func MineMapVariantConfig() variants.PanelcfgConfig {
	decode := func(raw []byte, strict bool) (any, error) {
		options := &MineMapOptions{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		if strict {
			dec.DisallowUnknownFields()
		}
		if err := dec.Decode(options); err != nil {
			return nil, fmt.Errorf("invalid %s options: %w", MineMapPanelType, err)
		}
		return options, nil
	}
	return variants.PanelcfgConfig{
		Identifier:               MineMapPanelType,
		OptionsUnmarshaler:       func(raw []byte) (any, error) { return decode(raw, false) },
		StrictOptionsUnmarshaler: func(raw []byte) (any, error) { return decode(raw, true) },
	}
}

// MineMapQuery is one instant query of the mine map panel. The panel reads
// frames by refId, so the refIds are fixed.
type MineMapQuery struct {
	RefID string
	Expr  string
}

// MineMapQueries returns the queries of the mine map panel for the mine
// code or variable mine. They equal mineQueries(mine) of the plugin's
// src/data/queries.ts with its VictoriaMetrics defaults. Positions look
// back 12 hours, so everyone last seen underground stays listed after
// positioning data stops, and the fix time comes from tlast_over_time.
//
// NOTE: tlast_over_time exists only in VictoriaMetrics. On a plain
// Prometheus the fix_time query fails; the plugin's Rescue list page
// switches to a timestamp() subquery for data sources whose type is not
// VictoriaMetrics.
func MineMapQueries(mine string) []MineMapQuery {
	m := fmt.Sprintf(`mine_id="%s"`, mine)
	const window = "12h"
	return []MineMapQuery{
		{"positions", fmt.Sprintf(`last_over_time(mine_person_position_meters{%s}[%s])`, m, window)},
		{"fix_time", fmt.Sprintf(
			`max by (mine_id, card) (tlast_over_time(mine_person_position_meters{%s,axis="x"}[%s]))`, m, window)},
		{"underground", fmt.Sprintf(
			`max by (mine_id, card) (last_over_time(mine_person_underground_seconds{%s}[%s]))`, m, window)},
		{"sos", fmt.Sprintf(`max by (mine_id, card) (last_over_time(mine_person_sos{%s}[15m]))`, m)},
		{"vehicles", fmt.Sprintf(`last_over_time(mine_vehicle_position_meters{%s}[15m])`, m)},
		{"area_persons", fmt.Sprintf(
			`max by (mine_id, area, area_type) (last_over_time(mine_area_persons{%s}[15m]))`, m)},
		{"area_limits", fmt.Sprintf(
			`max by (mine_id, area, area_type) (last_over_time(mine_area_persons_limit{%s}[1d]))`, m)},
		{"alerts", fmt.Sprintf(`ALERTS{%s,alertstate="firing"}`, m)},
		{"stations", fmt.Sprintf(`last_over_time(mine_station_position_meters{%s}[1d])`, m)},
		{"station_up", fmt.Sprintf(`max by (mine_id, station) (last_over_time(mine_station_up{%s}[15m]))`, m)},
	}
}

// mineMapPanel returns the plugin's mine map panel for the mine of the
// mine_id variable, in mode "map" or "rescue".
func mineMapPanel(title, mode string, height uint32) *dashboard.PanelBuilder {
	p := dashboard.NewPanelBuilder().
		Type(MineMapPanelType).
		Title(title).
		Datasource(datasource()).
		Height(height).Span(24).
		Options(MineMapOptions{
			MineID:              "$mine_id",
			Mode:                mode,
			StaleAfterSeconds:   120,
			MissingAfterSeconds: 900,
		}).
		Links([]cog.Builder[dashboard.DashboardLink]{
			pageLink("Rescue list page", rescuePageURL, "Rescue list of any mine, with CSV export"),
		})
	for _, q := range MineMapQueries("$mine_id") {
		p.WithTarget(instantQuery(q.RefID, q.Expr, ""))
	}
	return p
}
