package dxf

import (
	"encoding/json"
	"fmt"
	"math"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/minewatch/minewatch/grafana-plugin/pkg/plan"
)

// LayerRule maps drawing layers to a feature kind. Layer is a shell pattern
// (path.Match syntax) compared without regard to case. For areas, the area
// code is AreaCode when set, else the first run of 16 digits in the layer
// name.
type LayerRule struct {
	Layer    string `json:"layer"`
	Kind     string `json:"kind"`
	AreaType string `json:"area_type,omitempty"`
	AreaCode string `json:"area_code,omitempty"`
}

// DefaultLayerRules is the layer naming that the import uses when the app's
// settings give none: TUNNEL* for tunnels, AREA_<TYPE>_<area code> for areas.
var DefaultLayerRules = []LayerRule{
	{Layer: "tunnel*", Kind: plan.KindTunnel},
	{Layer: "area_shaft_mouth*", Kind: plan.KindArea, AreaType: "shaft_mouth"},
	{Layer: "area_key*", Kind: plan.KindArea, AreaType: "key"},
	{Layer: "area_restricted*", Kind: plan.KindArea, AreaType: "restricted"},
	{Layer: "area_other*", Kind: plan.KindArea, AreaType: "other"},
}

var areaCodeInLayer = regexp.MustCompile(`[0-9]{16}`)

// ImportResult is a plan made from a drawing and what was left out of it.
type ImportResult struct {
	GeoJSON        json.RawMessage `json:"geojson"`
	Tunnels        int             `json:"tunnels"`
	Areas          int             `json:"areas"`
	SkippedLayers  []string        `json:"skipped_layers"`  // layers no rule matched
	SkippedEntries int             `json:"skipped_entries"` // polylines on those layers
	Warnings       []string        `json:"warnings"`
}

// ValidateRules checks layer rules before they are used.
func ValidateRules(rules []LayerRule) error {
	for i, r := range rules {
		if _, err := path.Match(strings.ToLower(r.Layer), ""); err != nil {
			return fmt.Errorf("layer rule %d: pattern %q is invalid: %w", i, r.Layer, err)
		}
		switch r.Kind {
		case plan.KindTunnel:
		case plan.KindArea:
			if r.AreaType == "" {
				return fmt.Errorf("layer rule %d (%s): an area rule needs area_type", i, r.Layer)
			}
		default:
			return fmt.Errorf("layer rule %d (%s): kind %q is not tunnel or area", i, r.Layer, r.Kind)
		}
	}
	return nil
}

func matchRule(rules []LayerRule, layer string) (LayerRule, bool) {
	for _, r := range rules {
		if ok, _ := path.Match(strings.ToLower(r.Layer), strings.ToLower(layer)); ok {
			return r, true
		}
	}
	return LayerRule{}, false
}

// Import reads an ASCII DXF drawing whose coordinates are mine-grid metres
// and returns a validated plan for mineID. Polylines on layers no rule
// matches are skipped and listed.
func Import(mineID string, data []byte, rules []LayerRule) (*ImportResult, error) {
	if len(rules) == 0 {
		rules = DefaultLayerRules
	}
	if err := ValidateRules(rules); err != nil {
		return nil, err
	}
	polylines, err := Read(data)
	if err != nil {
		return nil, err
	}

	res := &ImportResult{}
	skipped := map[string]bool{}
	features := []map[string]any{}
	for _, pl := range polylines {
		rule, ok := matchRule(rules, pl.Layer)
		if !ok {
			skipped[pl.Layer] = true
			res.SkippedEntries++
			continue
		}
		if pl.Bulged {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"polyline at line %d on layer %q has arc segments; they were imported as straight lines", pl.Line, pl.Layer))
		}
		f, err := toFeature(pl, rule)
		if err != nil {
			return nil, err
		}
		features = append(features, f)
		if rule.Kind == plan.KindTunnel {
			res.Tunnels++
		} else {
			res.Areas++
		}
	}
	for layer := range skipped {
		res.SkippedLayers = append(res.SkippedLayers, layer)
	}
	sort.Strings(res.SkippedLayers)

	doc := map[string]any{
		"type":       "FeatureCollection",
		"properties": map[string]any{"mine_id": mineID},
		"features":   features,
	}
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("cannot encode the imported plan: %w", err)
	}
	if _, err := plan.Parse("imported from DXF", out, mineID); err != nil {
		return nil, err
	}
	res.GeoJSON = out
	return res, nil
}

func toFeature(pl Polyline, rule LayerRule) (map[string]any, error) {
	coords := make([][]float64, 0, len(pl.Points)+1)
	zSum := 0.0
	for _, p := range pl.Points {
		coords = append(coords, []float64{round3(p[0]), round3(p[1])})
		zSum += p[2]
	}
	if len(coords) < 2 {
		return nil, &Error{Line: pl.Line, Message: fmt.Sprintf("polyline on layer %q has %d vertices; at least 2 are needed", pl.Layer, len(coords))}
	}
	z := round3(zSum / float64(len(pl.Points)))
	props := map[string]any{"kind": rule.Kind, "name": pl.Layer, "z": z}

	if rule.Kind == plan.KindTunnel {
		return map[string]any{
			"type":       "Feature",
			"properties": props,
			"geometry":   map[string]any{"type": "LineString", "coordinates": coords},
		}, nil
	}

	first, last := coords[0], coords[len(coords)-1]
	if first[0] != last[0] || first[1] != last[1] {
		if !pl.Closed {
			return nil, &Error{Line: pl.Line, Message: fmt.Sprintf("area polyline on layer %q is open; close it (flag 70 = 1) so it outlines an area", pl.Layer)}
		}
		coords = append(coords, first)
	}
	code := rule.AreaCode
	if code == "" {
		code = areaCodeInLayer.FindString(pl.Layer)
	}
	if code == "" {
		return nil, &Error{Line: pl.Line, Message: fmt.Sprintf("area polyline on layer %q has no area code: put the 16-digit code in the layer name or in the layer rule", pl.Layer)}
	}
	props["area_code"] = code
	props["area_type"] = rule.AreaType
	return map[string]any{
		"type":       "Feature",
		"properties": props,
		"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][]float64{coords}},
	}, nil
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
