package sim

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Speeds of simulated tags, in metres per second of scenario time.
const (
	walkSpeed  = 1.2
	driveSpeed = 3.0
	// nearDistance is how close vehicle_near_person drives to a person.
	nearDistance = 2.0
	// equipmentDrift is how far secret_night_work moves equipment, in
	// metres per minute of scenario time, up to 60 m.
	equipmentDrift = 6.0
	// vehicleMargin keeps vehicles this far from the ends of their
	// haulage tunnels, where the walkways of persons begin.
	vehicleMargin = 20.0
)

// Fix is one simulated tag message.
type Fix struct {
	Tag     string
	Kind    string
	X, Y, Z float64
	Area    string
	Battery float64
	SOS     bool
}

// TagSim computes the fixes of one mine's tags as a pure function of the
// scenario time, so that runs repeat exactly.
type TagSim struct {
	MineID string
	Config *Positioning
	Layout *PlanLayout

	walkTunnels  []int
	driveTunnels []int
}

// NewTagSim prepares the tags of a mine.
func NewTagSim(mineID string, cfg *Positioning, layout *PlanLayout) *TagSim {
	s := &TagSim{MineID: mineID, Config: cfg, Layout: layout}
	var all []int
	for i := range layout.tunnels {
		t := &layout.tunnels[i]
		all = append(all, i)
		switch {
		case t.haulage:
			s.driveTunnels = append(s.driveTunnels, i)
		case !layout.touchesRestricted(t):
			s.walkTunnels = append(s.walkTunnels, i)
		}
	}
	if len(s.walkTunnels) == 0 {
		s.walkTunnels = all
	}
	if len(s.driveTunnels) == 0 {
		s.driveTunnels = all
	}
	return s
}

// Card returns the card id of person i: the mine code and 5 digits.
func (s *TagSim) Card(i int) string { return fmt.Sprintf("%s%05d", s.MineID, i+1) }

// Vehicle returns the tag id of vehicle i.
func (s *TagSim) Vehicle(i int) string { return fmt.Sprintf("V%04d", i+1) }

// Fixes returns every tag's fix at elapsed scenario time in states.
func (s *TagSim) Fixes(elapsed time.Duration, states []string) []Fix {
	sec := elapsed.Seconds()
	has := func(st string) bool {
		for _, v := range states {
			if v == st {
				return true
			}
		}
		return false
	}
	out := make([]Fix, 0, s.Config.Persons+s.Config.Vehicles+len(s.Config.Equipment))

	// Persons walk their tunnels, each from its own offset.
	for i := range s.Config.Persons {
		t := &s.Layout.tunnels[s.walkTunnels[i%len(s.walkTunnels)]]
		x, y := t.at(float64(i)*37 + walkSpeed*sec)
		out = append(out, Fix{Tag: s.Card(i), Kind: "person", X: x, Y: y, Z: t.z,
			Battery: 100 - math.Mod(float64(i)*7+sec/600, 90)})
	}
	if has(StateOvercrowdedFace) {
		if st, limit := s.Layout.areaStations("key", true); len(st) > 0 {
			n := min(limit+3, len(out))
			for i := range n {
				out[i].X, out[i].Y, out[i].Z = along(st, float64(i)/float64(max(n-1, 1)))
			}
		}
	}
	if has(StateRestrictedEntry) && len(out) > 0 {
		if st, _ := s.Layout.areaStations("restricted", false); len(st) > 0 {
			last := &out[len(out)-1]
			last.X, last.Y, last.Z = st[0].x+math.Sin(sec/10), st[0].y, st[0].z
		}
	}
	if has(StateSOS) && len(out) > 1 {
		out[len(out)-2].SOS = true
	}

	// Vehicles drive the haulage tunnels.
	for i := range s.Config.Vehicles {
		t := &s.Layout.tunnels[s.driveTunnels[i%len(s.driveTunnels)]]
		x, y := t.atInside(float64(i)*150+driveSpeed*sec, vehicleMargin)
		f := Fix{Tag: s.Vehicle(i), Kind: "vehicle", X: x, Y: y, Z: t.z, Battery: 100}
		if i == 0 && has(StateVehicleNearPerson) && s.Config.Persons > 0 {
			p := out[0]
			f.X, f.Y, f.Z = p.X+nearDistance, p.Y, p.Z
		}
		out = append(out, f)
	}

	// Equipment stays at its registered position unless the mine works.
	for _, e := range s.Config.Equipment {
		f := Fix{Tag: e.Tag, Kind: "equipment", X: e.X, Y: e.Y, Z: e.Z, Battery: 100}
		if has(StateSecretNightWork) {
			f.X += math.Min(60, equipmentDrift*sec/60)
		}
		out = append(out, f)
	}

	if *s.Config.AreaCodes {
		for i := range out {
			if a := s.Layout.areas.Locate(out[i].X, out[i].Y, out[i].Z); a != nil {
				out[i].Area = a.Code
			}
		}
	}
	return out
}

// along returns the point at fraction f of the way through the stations.
func along(st []station, f float64) (x, y, z float64) {
	if len(st) == 1 {
		return st[0].x, st[0].y, st[0].z
	}
	a, b := st[0], st[len(st)-1]
	return a.x + f*(b.x-a.x), a.y + f*(b.y-a.y), a.z + f*(b.z-a.z)
}

// Topic returns the publish topic of a tag.
func (s *TagSim) Topic(tag string) string {
	r := strings.NewReplacer("{mine_id}", s.MineID, "{tag_id}", tag)
	return r.Replace(s.Config.Topic)
}

// cst is China Standard Time, the zone of mine clocks.
var cst = time.FixedZone("CST", 8*3600)

// Payload encodes a fix in the sample UWB JSON format.
func (s *TagSim) Payload(f Fix, at time.Time) []byte {
	area := ""
	if f.Area != "" {
		area = fmt.Sprintf(`,"areaCode":%q`, f.Area)
	}
	return fmt.Appendf(nil, `{"tagId":%q,"type":%q,"x":%.2f,"y":%.2f,"z":%.2f%s,"ts":%q,"battery":%.0f,"sos":%t}`,
		f.Tag, f.Kind, f.X, f.Y, f.Z, area, at.In(cst).Format("2006-01-02T15:04:05.000-07:00"), f.Battery, f.SOS)
}

// PublishFunc publishes one message.
type PublishFunc func(topic string, payload []byte) error

// Run publishes every tag's fix each interval of scenario time until ctx
// ends. A failed publish is returned to the caller through onError and the
// run goes on, so a broker restart only loses fixes.
func (s *TagSim) Run(ctx context.Context, m *Mine, clock *Clock, publish PublishFunc, onError func(error)) {
	tick := time.NewTicker(clock.Interval(s.Config.Interval))
	defer tick.Stop()
	for {
		elapsed := clock.Elapsed()
		now := clock.Now()
		for _, f := range s.Fixes(elapsed, m.StatesAt(elapsed)) {
			if err := publish(s.Topic(f.Tag), s.Payload(f, now)); err != nil {
				onError(fmt.Errorf("mine %s: publish of tag %s: %w", s.MineID, f.Tag, err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
