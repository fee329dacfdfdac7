// Package plan reads and validates mine plans: GeoJSON FeatureCollections in
// mine metres on the mine grid, the same grid as the RYJZ station X/Y values.
//
// Each feature has properties.kind:
//   - tunnel: LineString, with name and z (metres);
//   - area: Polygon, with area_code (16 digits), area_type, name, z and an
//     optional limit (persons);
//   - station: Point, with station_code (22 digits), name and z.
//
// Top-level properties may carry mine_id and levels ({name, z_min, z_max}).
package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Feature kinds.
const (
	KindTunnel  = "tunnel"
	KindArea    = "area"
	KindStation = "station"
)

// AreaTypes lists the area_type values of the national personnel-positioning
// files: shaft mouth (井口区域), key area or working face (重点区域),
// restricted (限制区域) and other (其它区域).
var AreaTypes = []string{"shaft_mouth", "key", "restricted", "other"}

var (
	mineIDPattern      = regexp.MustCompile(`^[0-9]{12}$`)
	areaCodePattern    = regexp.MustCompile(`^[0-9]{16}$`)
	stationCodePattern = regexp.MustCompile(`^[0-9]{22}$`)
)

// maxErrors bounds the problems listed for one plan, so a wholly broken file
// yields a readable message.
const maxErrors = 20

// Plan is a validated mine plan. Raw keeps the document as read, so the
// resource serves the author's file unchanged.
type Plan struct {
	MineID   string
	Levels   []Level
	Tunnels  int
	Areas    int
	Stations int
	Raw      json.RawMessage
}

// Level is a named band of elevations, in metres.
type Level struct {
	Name string  `json:"name"`
	ZMin float64 `json:"z_min"`
	ZMax float64 `json:"z_max"`
}

// Problem is one invalid part of a plan: which feature and what is wrong.
type Problem struct {
	Feature int    `json:"feature"` // index in features, -1 for the collection
	Ref     string `json:"ref"`     // kind and code or name of the feature
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Feature < 0 {
		return p.Message
	}
	return fmt.Sprintf("feature %d (%s): %s", p.Feature, p.Ref, p.Message)
}

// ValidationError lists the problems found in one plan.
type ValidationError struct {
	Source   string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		lines = append(lines, p.String())
	}
	return fmt.Sprintf("invalid mine plan %s: %s", e.Source, strings.Join(lines, "; "))
}

type collection struct {
	Type       string          `json:"type"`
	Properties json.RawMessage `json:"properties"`
	Features   []feature       `json:"features"`
}

type collectionProperties struct {
	MineID *string `json:"mine_id"`
	Levels []Level `json:"levels"`
}

type feature struct {
	Type       string                     `json:"type"`
	Geometry   *geometry                  `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// Parse decodes and validates a plan. source names the file or URL in
// errors; wantMineID, when not empty, must match properties.mine_id and the
// prefix of every area and station code. A *ValidationError lists every
// problem found, up to a bound.
func Parse(source string, data []byte, wantMineID string) (*Plan, error) {
	var doc collection
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("cannot decode mine plan %s as GeoJSON: %w", source, err)
	}

	v := validator{source: source}
	if doc.Type != "FeatureCollection" {
		v.add(-1, "", "type is %q; a mine plan must be a GeoJSON FeatureCollection", doc.Type)
	}

	p := &Plan{MineID: wantMineID, Raw: json.RawMessage(data)}
	v.collectionProperties(p, doc.Properties, wantMineID)

	areaCodes := map[string]int{}
	for i, f := range doc.Features {
		v.feature(p, i, f, areaCodes)
		if len(v.problems) >= maxErrors {
			v.add(-1, "", "more problems not listed; fix the ones above first")
			break
		}
	}
	if len(doc.Features) == 0 {
		v.add(-1, "", "features is empty; a mine plan needs at least one tunnel, area or station")
	}

	if len(v.problems) > 0 {
		return nil, &ValidationError{Source: source, Problems: v.problems}
	}
	return p, nil
}

type validator struct {
	source   string
	problems []Problem
	mineID   string
}

func (v *validator) add(i int, ref, format string, args ...any) {
	v.problems = append(v.problems, Problem{Feature: i, Ref: ref, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) collectionProperties(p *Plan, raw json.RawMessage, wantMineID string) {
	v.mineID = wantMineID
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	var props collectionProperties
	if err := json.Unmarshal(raw, &props); err != nil {
		v.add(-1, "", "top-level properties are invalid: %v", err)
		return
	}
	if props.MineID != nil {
		id := *props.MineID
		switch {
		case !mineIDPattern.MatchString(id):
			v.add(-1, "", "properties.mine_id %q is not a 12-digit mine code", id)
		case wantMineID != "" && id != wantMineID:
			v.add(-1, "", "properties.mine_id %q does not match mine %s named by the file", id, wantMineID)
		default:
			p.MineID = id
			v.mineID = id
		}
	}
	for i, l := range props.Levels {
		if strings.TrimSpace(l.Name) == "" {
			v.add(-1, "", "properties.levels[%d] has no name", i)
		}
		if !(l.ZMin < l.ZMax) {
			v.add(-1, "", "properties.levels[%d] (%s): z_min %g must be below z_max %g", i, l.Name, l.ZMin, l.ZMax)
		}
	}
	p.Levels = props.Levels
}

func (v *validator) feature(p *Plan, i int, f feature, areaCodes map[string]int) {
	kind := v.stringProp(f, "kind")
	ref := featureRef(f, kind)
	if f.Type != "Feature" {
		v.add(i, ref, "type is %q, expected \"Feature\"", f.Type)
	}
	if f.Geometry == nil {
		v.add(i, ref, "geometry is missing")
		return
	}

	switch kind {
	case KindTunnel:
		p.Tunnels++
		v.lineString(i, ref, f.Geometry)
	case KindArea:
		p.Areas++
		v.polygon(i, ref, f.Geometry)
		v.areaProperties(i, ref, f, areaCodes)
	case KindStation:
		p.Stations++
		v.point(i, ref, f.Geometry)
		code := v.stringProp(f, "station_code")
		switch {
		case !stationCodePattern.MatchString(code):
			v.add(i, ref, "station_code %q is not 22 digits (area code + 6)", code)
		case v.mineID != "" && !strings.HasPrefix(code, v.mineID):
			v.add(i, ref, "station_code %s does not start with mine code %s", code, v.mineID)
		}
	case "":
		v.add(i, ref, "properties.kind is missing; set it to tunnel, area or station")
		return
	default:
		v.add(i, ref, "properties.kind %q is unknown; use tunnel, area or station", kind)
		return
	}
	v.zProp(i, ref, f)
}

func (v *validator) areaProperties(i int, ref string, f feature, areaCodes map[string]int) {
	code := v.stringProp(f, "area_code")
	switch {
	case !areaCodePattern.MatchString(code):
		v.add(i, ref, "area_code %q is not 16 digits (mine code + 4)", code)
	case v.mineID != "" && !strings.HasPrefix(code, v.mineID):
		v.add(i, ref, "area_code %s does not start with mine code %s", code, v.mineID)
	default:
		if prev, ok := areaCodes[code]; ok {
			v.add(i, ref, "area_code %s is also used by feature %d", code, prev)
		}
		areaCodes[code] = i
	}

	areaType := v.stringProp(f, "area_type")
	known := false
	for _, t := range AreaTypes {
		known = known || t == areaType
	}
	if !known {
		v.add(i, ref, "area_type %q is unknown; use one of %s", areaType, strings.Join(AreaTypes, ", "))
	}

	if raw, ok := f.Properties["limit"]; ok && string(raw) != "null" {
		var limit float64
		if err := json.Unmarshal(raw, &limit); err != nil || limit < 0 || limit != math.Trunc(limit) {
			v.add(i, ref, "limit %s is not a non-negative whole number of persons", raw)
		}
	}
}

func (v *validator) zProp(i int, ref string, f feature) {
	raw, ok := f.Properties["z"]
	if !ok {
		v.add(i, ref, "properties.z is missing; give the elevation in metres on the mine grid")
		return
	}
	var z float64
	if err := json.Unmarshal(raw, &z); err != nil {
		v.add(i, ref, "properties.z %s is not a number of metres", raw)
	}
}

func (v *validator) stringProp(f feature, key string) string {
	raw, ok := f.Properties[key]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

func featureRef(f feature, kind string) string {
	var s string
	for _, key := range []string{"area_code", "station_code", "name"} {
		if raw, ok := f.Properties[key]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
			return fmt.Sprintf("%s %s", orUnknown(kind), s)
		}
	}
	return orUnknown(kind)
}

func orUnknown(kind string) string {
	if kind == "" {
		return "kind unknown"
	}
	return kind
}

func (v *validator) point(i int, ref string, g *geometry) {
	if g.Type != "Point" {
		v.add(i, ref, "geometry type is %s; a station is a Point", g.Type)
		return
	}
	var c []float64
	if err := json.Unmarshal(g.Coordinates, &c); err != nil {
		v.add(i, ref, "coordinates are not a position [x, y]: %v", err)
		return
	}
	if err := checkPosition(c); err != nil {
		v.add(i, ref, "coordinate %v: %v", c, err)
	}
}

func (v *validator) lineString(i int, ref string, g *geometry) {
	if g.Type != "LineString" {
		v.add(i, ref, "geometry type is %s; a tunnel is a LineString", g.Type)
		return
	}
	var cs [][]float64
	if err := json.Unmarshal(g.Coordinates, &cs); err != nil {
		v.add(i, ref, "coordinates are not a list of positions: %v", err)
		return
	}
	if len(cs) < 2 {
		v.add(i, ref, "a tunnel needs at least 2 positions, got %d", len(cs))
	}
	for j, c := range cs {
		if err := checkPosition(c); err != nil {
			v.add(i, ref, "coordinate %d %v: %v", j, c, err)
			return
		}
	}
}

func (v *validator) polygon(i int, ref string, g *geometry) {
	if g.Type != "Polygon" {
		v.add(i, ref, "geometry type is %s; an area is a Polygon", g.Type)
		return
	}
	var rings [][][]float64
	if err := json.Unmarshal(g.Coordinates, &rings); err != nil {
		v.add(i, ref, "coordinates are not a list of rings: %v", err)
		return
	}
	if len(rings) == 0 {
		v.add(i, ref, "polygon has no rings")
		return
	}
	for r, ring := range rings {
		if len(ring) < 4 {
			v.add(i, ref, "ring %d has %d positions; a ring needs at least 4, the first repeated last", r, len(ring))
			continue
		}
		for j, c := range ring {
			if err := checkPosition(c); err != nil {
				v.add(i, ref, "ring %d coordinate %d %v: %v", r, j, c, err)
				return
			}
		}
		first, last := ring[0], ring[len(ring)-1]
		if first[0] != last[0] || first[1] != last[1] {
			v.add(i, ref, "ring %d is not closed: first position %v differs from last %v", r, first, last)
		}
	}
}

func checkPosition(c []float64) error {
	if len(c) < 2 || len(c) > 3 {
		return fmt.Errorf("a position has 2 or 3 values (x, y[, z]), got %d", len(c))
	}
	for _, x := range c {
		// Mine grids are local: a value beyond 10,000 km is a unit or
		// projection mistake (degrees in place of metres cannot be caught
		// here, but millimetres or a wrong false easting often can).
		if math.Abs(x) > 1e7 {
			return fmt.Errorf("value %g is beyond 10,000 km; coordinates must be metres on the mine grid", x)
		}
	}
	return nil
}
