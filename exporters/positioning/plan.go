package positioning

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// Area types, as in the RYQY files.
const (
	AreaShaftMouth = "shaft_mouth"
	AreaKey        = "key"
	AreaRestricted = "restricted"
	AreaOther      = "other"
)

// Plan is the part of a mine plan (GeoJSON in mine metres) that the
// positioning source uses: area polygons and levels.
type Plan struct {
	MineID string
	Areas  []Area
	Levels []Level
}

// Area is one area polygon of a plan.
type Area struct {
	Code string
	Type string
	Name string
	Z    float64
	// Limit is the approved number of persons; -1 when the plan has none.
	Limit int
	ring  [][2]float64
	minX  float64
	minY  float64
	maxX  float64
	maxY  float64
}

// Level is a range of z that one level of the mine spans.
type Level struct {
	Name string  `json:"name"`
	ZMin float64 `json:"z_min"`
	ZMax float64 `json:"z_max"`
}

type geoJSON struct {
	Type       string `json:"type"`
	Properties struct {
		MineID string  `json:"mine_id"`
		Levels []Level `json:"levels"`
	} `json:"properties"`
	Features []struct {
		Properties struct {
			Kind     string   `json:"kind"`
			AreaCode string   `json:"area_code"`
			AreaType string   `json:"area_type"`
			Name     string   `json:"name"`
			Z        float64  `json:"z"`
			Limit    *float64 `json:"limit"`
		} `json:"properties"`
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	} `json:"features"`
}

// LoadPlans reads <dir>/<mine_id>.geojson for every mine id given. A
// missing file is no error: that mine's areas then come from messages.
func LoadPlans(dir string, mineIDs []string) (map[string]*Plan, error) {
	plans := map[string]*Plan{}
	if dir == "" {
		return plans, nil
	}
	for _, id := range mineIDs {
		path := filepath.Join(dir, id+".geojson")
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read mine plan: %w", err)
		}
		p, err := ParsePlan(data)
		if err != nil {
			return nil, fmt.Errorf("mine plan %s: %w", path, err)
		}
		if p.MineID == "" {
			p.MineID = id
		}
		if p.MineID != id {
			return nil, fmt.Errorf("mine plan %s: properties.mine_id is %q, expected %q from the file name", path, p.MineID, id)
		}
		plans[id] = p
	}
	return plans, nil
}

// ParsePlan decodes a plan's GeoJSON FeatureCollection and keeps its
// areas and levels. Tunnels and stations are for the map only.
func ParsePlan(data []byte) (*Plan, error) {
	var g geoJSON
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("invalid GeoJSON: %w", err)
	}
	if g.Type != "FeatureCollection" {
		return nil, fmt.Errorf("type is %q, expected FeatureCollection", g.Type)
	}
	p := &Plan{MineID: g.Properties.MineID, Levels: g.Properties.Levels}
	for i, f := range g.Features {
		if f.Properties.Kind != "area" {
			continue
		}
		pr := f.Properties
		if len(pr.AreaCode) != 16 {
			return nil, fmt.Errorf("features[%d]: area_code %q must be 16 digits", i, pr.AreaCode)
		}
		if !contains([]string{AreaShaftMouth, AreaKey, AreaRestricted, AreaOther}, pr.AreaType) {
			return nil, fmt.Errorf("features[%d]: area %s: area_type %q is invalid, expected shaft_mouth, key, restricted or other",
				i, pr.AreaCode, pr.AreaType)
		}
		if f.Geometry.Type != "Polygon" {
			return nil, fmt.Errorf("features[%d]: area %s: geometry type %q, expected Polygon", i, pr.AreaCode, f.Geometry.Type)
		}
		var rings [][][2]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil || len(rings) == 0 || len(rings[0]) < 4 {
			return nil, fmt.Errorf("features[%d]: area %s: coordinates must be a ring of at least 4 [x, y] positions", i, pr.AreaCode)
		}
		a := Area{Code: pr.AreaCode, Type: pr.AreaType, Name: pr.Name, Z: pr.Z, Limit: -1, ring: rings[0]}
		if pr.Limit != nil {
			a.Limit = int(*pr.Limit)
		}
		a.bounds()
		p.Areas = append(p.Areas, a)
	}
	return p, nil
}

func (a *Area) bounds() {
	a.minX, a.minY = math.Inf(1), math.Inf(1)
	a.maxX, a.maxY = math.Inf(-1), math.Inf(-1)
	for _, pt := range a.ring {
		a.minX, a.maxX = math.Min(a.minX, pt[0]), math.Max(a.maxX, pt[0])
		a.minY, a.maxY = math.Min(a.minY, pt[1]), math.Max(a.maxY, pt[1])
	}
}

// contains reports whether (x, y) lies inside the area's outer ring, by
// counting crossings of a ray towards +x.
func (a *Area) contains(x, y float64) bool {
	if x < a.minX || x > a.maxX || y < a.minY || y > a.maxY {
		return false
	}
	inside := false
	r := a.ring
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		xi, yi, xj, yj := r[i][0], r[i][1], r[j][0], r[j][1]
		if (yi > y) != (yj > y) && x < xi+(y-yi)*(xj-xi)/(yj-yi) {
			inside = !inside
		}
	}
	return inside
}

// level returns the index of the level whose z range holds z, or -1.
func (p *Plan) level(z float64) int {
	for i, l := range p.Levels {
		if z >= l.ZMin && z <= l.ZMax {
			return i
		}
	}
	return -1
}

// Locate returns the area that holds the point, or nil. When the plan has
// levels, only areas on the point's level count, so a fix on one level is
// never placed in an area drawn above or below it.
func (p *Plan) Locate(x, y, z float64) *Area {
	lvl := p.level(z)
	for i := range p.Areas {
		a := &p.Areas[i]
		if lvl >= 0 && p.level(a.Z) != lvl {
			continue
		}
		if a.contains(x, y) {
			return a
		}
	}
	return nil
}

// Area returns the area with the given code, or nil.
func (p *Plan) Area(code string) *Area {
	if p == nil {
		return nil
	}
	for i := range p.Areas {
		if p.Areas[i].Code == code {
			return &p.Areas[i]
		}
	}
	return nil
}
