package national

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// minePlan is the part of a mine plan that places RYSS cards: its tunnel
// lines. Plans are GeoJSON FeatureCollections in mine metres, on the same
// grid as the RYJZ station coordinates.
type minePlan struct {
	mineID  string
	file    string
	tunnels []*tunnel
}

// tunnel is one LineString feature of kind tunnel.
type tunnel struct {
	name string
	// points are the vertices. Their z is used only when hasZ is set.
	points [][3]float64
	hasZ   bool
	// along[i] is the length of the line from its first vertex to vertex
	// i, in metres: measured in 3D when the vertices carry z, else in the
	// plane.
	along []float64
}

func (t *tunnel) length() float64 { return t.along[len(t.along)-1] }

// planFeature is the GeoJSON of one feature, as far as tunnels need it.
type planFeature struct {
	Type       string `json:"type"`
	Properties struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"properties"`
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

type planJSON struct {
	Type       string `json:"type"`
	Properties struct {
		MineID string `json:"mine_id"`
	} `json:"properties"`
	Features []planFeature `json:"features"`
}

// planFileError is a plan file that could not be used, with the reason
// counted in mine_source_errors_total.
type planFileError struct {
	mineID string
	file   string
	reason string
	err    error
}

func (e *planFileError) Error() string { return e.err.Error() }

// Reasons of plan files that cannot be used, in mine_source_errors_total
// with target "plan".
const (
	ReasonPlanUnreadable = "plan_unreadable"
	ReasonPlanInvalid    = "plan_invalid"
)

// loadPlans reads every <mine_id>.geojson in dir. A file that cannot be
// used is returned as an error and left out, so that its mine's cards stay
// at their stations while the other plans apply. Files whose name is not a
// 12-digit mine code are listed in skipped.
func loadPlans(dir string) (plans map[string]*minePlan, skipped []string, errs []*planFileError, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("cannot list plans_dir %s, so cards stay at their stations: %w", dir, err)
	}
	plans = map[string]*minePlan{}
	for _, e := range entries {
		name := e.Name()
		const ext = ".geojson"
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(name), ext) {
			continue
		}
		mineID := name[:len(name)-len(ext)]
		if len(mineID) != 12 || !allDigits(mineID) {
			skipped = append(skipped, name)
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, &planFileError{mineID, path, ReasonPlanUnreadable,
				fmt.Errorf("cannot read mine plan %s: %w", path, err)})
			continue
		}
		p, err := parsePlan(mineID, data)
		if err != nil {
			errs = append(errs, &planFileError{mineID, path, ReasonPlanInvalid,
				fmt.Errorf("mine plan %s: %w (fix the file, then reload)", path, err)})
			continue
		}
		p.file = path
		plans[mineID] = p
	}
	return plans, skipped, errs, nil
}

// parsePlan decodes a plan and checks its tunnels. Features of other
// kinds (areas, stations) are for the map and are not checked here.
func parsePlan(mineID string, data []byte) (*minePlan, error) {
	var g planJSON
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("invalid GeoJSON: %w", err)
	}
	if g.Type != "FeatureCollection" {
		return nil, fmt.Errorf("type is %q, expected FeatureCollection", g.Type)
	}
	if g.Properties.MineID != "" && g.Properties.MineID != mineID {
		return nil, fmt.Errorf("properties.mine_id is %q but the file name names mine %s", g.Properties.MineID, mineID)
	}
	p := &minePlan{mineID: mineID}
	for i, f := range g.Features {
		if f.Properties.Kind != "tunnel" {
			continue
		}
		t, err := parseTunnel(f)
		if err != nil {
			return nil, fmt.Errorf("features[%d] (tunnel %q): %w", i, f.Properties.Name, err)
		}
		p.tunnels = append(p.tunnels, t)
	}
	return p, nil
}

func parseTunnel(f planFeature) (*tunnel, error) {
	if f.Geometry == nil || f.Geometry.Type != "LineString" {
		typ := "none"
		if f.Geometry != nil {
			typ = fmt.Sprintf("%q", f.Geometry.Type)
		}
		return nil, fmt.Errorf("geometry type is %s, expected LineString", typ)
	}
	var coords [][]float64
	if err := json.Unmarshal(f.Geometry.Coordinates, &coords); err != nil {
		return nil, fmt.Errorf("coordinates must be a list of [x, y] or [x, y, z] positions: %w", err)
	}
	if len(coords) < 2 {
		return nil, fmt.Errorf("a LineString needs at least 2 positions, found %d", len(coords))
	}
	t := &tunnel{name: f.Properties.Name, points: make([][3]float64, len(coords)),
		hasZ: len(coords[0]) == 3, along: make([]float64, len(coords))}
	for i, c := range coords {
		if len(c) != 2 && len(c) != 3 {
			return nil, fmt.Errorf("position %d has %d numbers, expected 2 (x, y) or 3 (x, y, z)", i, len(c))
		}
		if (len(c) == 3) != t.hasZ {
			return nil, fmt.Errorf("position %d: either every position carries z or none does", i)
		}
		copy(t.points[i][:], c)
	}
	for i := 1; i < len(t.points); i++ {
		t.along[i] = t.along[i-1] + segmentLength(t.points[i-1], t.points[i], t.hasZ)
	}
	if t.length() == 0 {
		return nil, errors.New("all positions are the same point, so the tunnel has no length")
	}
	return t, nil
}

func segmentLength(a, b [3]float64, withZ bool) float64 {
	dz := 0.0
	if withZ {
		dz = b[2] - a[2]
	}
	return math.Sqrt((b[0]-a[0])*(b[0]-a[0]) + (b[1]-a[1])*(b[1]-a[1]) + dz*dz)
}
