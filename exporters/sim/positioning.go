package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/minewatch/minewatch/exporters/positioning"
)

// Positioning is a mine's positioning section of the scenario: UWB tags
// that walk and drive the tunnels of the mine's plan.
//
// The timeline drives the tags: restricted_entry puts one person into the
// first restricted area, vehicle_near_person drives the first vehicle up to
// 2 m from a person, sos raises SOS on one card, overcrowded_face puts more
// persons at the first working face than its limit allows, and
// secret_night_work moves each equipment tag off its registered position,
// as a shearer cutting coal would.
type Positioning struct {
	// Plan is the mine plan GeoJSON, relative to the scenario file.
	Plan string `yaml:"plan"`
	// Topic is the publish topic; {mine_id} and {tag_id} are replaced.
	// Default mine/{mine_id}/uwb/tag/{tag_id}.
	Topic string `yaml:"topic"`
	// Interval between two fixes of a tag, in scenario time. Default 1s.
	Interval time.Duration `yaml:"interval"`
	// Persons walking the tunnels. Default 20.
	Persons int `yaml:"persons"`
	// Vehicles driving the haulage tunnels. Default 2.
	Vehicles int `yaml:"vehicles"`
	// Equipment tags at their registered positions.
	Equipment []SimEquipment `yaml:"equipment"`
	// AreaCodes makes messages carry the area code of the fix, as most
	// positioning systems do. Default true; false leaves areas to the
	// exporter's polygons.
	AreaCodes *bool `yaml:"area_codes"`
}

// SimEquipment is one equipment tag at its registered position.
type SimEquipment struct {
	Tag string  `yaml:"tag"`
	X   float64 `yaml:"x"`
	Y   float64 `yaml:"y"`
	Z   float64 `yaml:"z"`
}

// tunnel is a polyline of the plan with its z.
type tunnel struct {
	name    string
	z       float64
	haulage bool
	pts     [][2]float64
	length  float64
}

// station is a station point with the area code it belongs to.
type station struct {
	area string
	x, y float64
	z    float64
}

// PlanLayout is the part of a plan that the simulated tags move on.
type PlanLayout struct {
	tunnels  []tunnel
	stations []station
	areas    *positioning.Plan
}

// LoadPlanLayout reads a plan's tunnels, stations and areas.
func LoadPlanLayout(path string) (*PlanLayout, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read mine plan: %w", err)
	}
	areas, err := positioning.ParsePlan(data)
	if err != nil {
		return nil, fmt.Errorf("mine plan %s: %w", path, err)
	}
	var g struct {
		Features []struct {
			Properties struct {
				Kind        string  `json:"kind"`
				Name        string  `json:"name"`
				Z           float64 `json:"z"`
				Haulage     bool    `json:"haulage"`
				StationCode string  `json:"station_code"`
			} `json:"properties"`
			Geometry struct {
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("mine plan %s: %w", path, err)
	}
	l := &PlanLayout{areas: areas}
	for i, f := range g.Features {
		switch f.Properties.Kind {
		case "tunnel":
			t := tunnel{name: f.Properties.Name, z: f.Properties.Z, haulage: f.Properties.Haulage}
			if err := json.Unmarshal(f.Geometry.Coordinates, &t.pts); err != nil || len(t.pts) < 2 {
				return nil, fmt.Errorf("mine plan %s: features[%d]: tunnel %q needs a LineString of 2 or more points", path, i, t.name)
			}
			for j := 1; j < len(t.pts); j++ {
				t.length += math.Hypot(t.pts[j][0]-t.pts[j-1][0], t.pts[j][1]-t.pts[j-1][1])
			}
			l.tunnels = append(l.tunnels, t)
		case "station":
			var p [2]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &p); err != nil || len(f.Properties.StationCode) < 16 {
				return nil, fmt.Errorf("mine plan %s: features[%d]: station needs a Point and a 22-digit station_code", path, i)
			}
			l.stations = append(l.stations, station{area: f.Properties.StationCode[:16], x: p[0], y: p[1], z: f.Properties.Z})
		}
	}
	if len(l.tunnels) == 0 {
		return nil, fmt.Errorf("mine plan %s has no tunnels to move tags on", path)
	}
	return l, nil
}

// at returns the point at distance s along the tunnel, going back and
// forth between its ends.
func (t *tunnel) at(s float64) (x, y float64) {
	s = math.Mod(s, 2*t.length)
	if s < 0 {
		s += 2 * t.length
	}
	if s > t.length {
		s = 2*t.length - s
	}
	for j := 1; j < len(t.pts); j++ {
		a, b := t.pts[j-1], t.pts[j]
		seg := math.Hypot(b[0]-a[0], b[1]-a[1])
		if s <= seg || j == len(t.pts)-1 {
			f := 0.0
			if seg > 0 {
				f = math.Min(s/seg, 1)
			}
			return a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])
		}
		s -= seg
	}
	return t.pts[0][0], t.pts[0][1]
}

// atInside is at on the tunnel shortened by margin at both ends.
func (t *tunnel) atInside(s, margin float64) (x, y float64) {
	inner := t.length - 2*margin
	if inner <= 0 {
		return t.at(t.length / 2)
	}
	s = math.Mod(s, 2*inner)
	if s < 0 {
		s += 2 * inner
	}
	if s > inner {
		s = 2*inner - s
	}
	return t.at(margin + s)
}

// touchesRestricted reports whether any point of the tunnel, sampled
// every metre, lies in a restricted area. Simulated persons keep out of
// such tunnels unless the timeline sends one in.
func (l *PlanLayout) touchesRestricted(t *tunnel) bool {
	for s := 0.0; s <= t.length; s++ {
		x, y := t.at(s)
		if a := l.areas.Locate(x, y, t.z); a != nil && a.Type == positioning.AreaRestricted {
			return true
		}
	}
	return false
}

// areaStations returns the stations of the first area of the given type,
// and that area's limit (-1 when it has none).
func (l *PlanLayout) areaStations(areaType string, needLimit bool) ([]station, int) {
	for _, a := range l.areas.Areas {
		if a.Type != areaType || (needLimit && a.Limit <= 0) {
			continue
		}
		var out []station
		for _, s := range l.stations {
			if s.area == a.Code {
				out = append(out, s)
			}
		}
		if len(out) > 0 {
			return out, a.Limit
		}
	}
	return nil, -1
}

func (p *Positioning) setDefaults() {
	if p.Topic == "" {
		p.Topic = "mine/{mine_id}/uwb/tag/{tag_id}"
	}
	if p.Interval == 0 {
		p.Interval = time.Second
	}
	if p.Persons == 0 {
		p.Persons = 20
	}
	if p.Vehicles == 0 {
		p.Vehicles = 2
	}
	if p.AreaCodes == nil {
		t := true
		p.AreaCodes = &t
	}
}

func (p *Positioning) validate() error {
	var errs []error
	if p.Plan == "" {
		errs = append(errs, errors.New("plan is missing: name the mine plan GeoJSON"))
	}
	if !strings.Contains(p.Topic, "{tag_id}") {
		errs = append(errs, fmt.Errorf("topic %q has no {tag_id}", p.Topic))
	}
	if p.Interval < 10*time.Millisecond {
		errs = append(errs, errors.New("interval must be at least 10ms"))
	}
	if p.Persons < 0 || p.Vehicles < 0 {
		errs = append(errs, errors.New("persons and vehicles must not be negative"))
	}
	for i, e := range p.Equipment {
		if e.Tag == "" {
			errs = append(errs, fmt.Errorf("equipment[%d].tag is missing", i))
		}
	}
	return errors.Join(errs...)
}

// DecodePositioning decodes and validates a mine's positioning section.
// It returns nil when the section is absent.
func DecodePositioning(m *Mine) (*Positioning, error) {
	var p Positioning
	ok, err := Decode(&m.Positioning, &p)
	if err != nil {
		return nil, fmt.Errorf("mine %s: positioning: %w", m.ID, err)
	}
	if !ok {
		return nil, nil
	}
	p.setDefaults()
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("mine %s: positioning: %w", m.ID, err)
	}
	return &p, nil
}
