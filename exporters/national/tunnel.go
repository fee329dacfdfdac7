package national

import (
	"math"
)

// A card in RYSS is located by its station and a signed distance to that
// station along the tunnel. With a mine plan, the card is placed on the
// plan's tunnel nearest to the station: the station is projected onto the
// tunnel and the card moved |distance| metres along it, towards higher
// vertex indexes of the LineString for a positive distance and towards
// lower ones for a negative distance. The walk crosses vertices and stops
// at the tunnel's ends. So a plan should draw each tunnel in the direction
// that its mine's system counts as positive.

// tiedMeters is the largest difference, in metres, between two tunnels'
// distances from a station at which they count as equally near. A station
// at a junction, at the end of one tunnel and the start of the next, is
// the usual case.
const tiedMeters = 0.01

// anchor is a station's projection onto one tunnel.
type anchor struct {
	tunnel *tunnel
	// segment is the index of the segment from points[segment] to
	// points[segment+1] that holds the projection.
	segment int
	// along is the length of the tunnel from its first vertex to the
	// projection, in metres.
	along float64
}

// stationAnchors are the projections of one station that its cards move
// from: forward for a positive distance, backward for a negative one.
// They differ only when two tunnels are equally near the station. Then
// forward is on the tunnel with more length ahead of the station and
// backward on the one with more length behind it, so that a card at a
// junction moves into the tunnel on its side.
type stationAnchors struct {
	forward, backward anchor
}

// project returns the point of t nearest to (x, y) in the plane, as an
// anchor, and its distance from (x, y) in metres.
func (t *tunnel) project(x, y float64) (anchor, float64) {
	best := anchor{tunnel: t}
	bestDist := math.Inf(1)
	for i := 0; i+1 < len(t.points); i++ {
		a, b := t.points[i], t.points[i+1]
		vx, vy := b[0]-a[0], b[1]-a[1]
		f := 0.0
		if n := vx*vx + vy*vy; n > 0 {
			f = min(max(((x-a[0])*vx+(y-a[1])*vy)/n, 0), 1)
		}
		d := math.Hypot(x-(a[0]+f*vx), y-(a[1]+f*vy))
		if d < bestDist {
			bestDist = d
			best.segment = i
			best.along = t.along[i] + f*(t.along[i+1]-t.along[i])
		}
	}
	return best, bestDist
}

// anchorStation projects a station at (x, y) onto the plan's nearest
// tunnel. ok is false when no tunnel lies within tolerance metres.
func (p *minePlan) anchorStation(x, y, tolerance float64) (s stationAnchors, ok bool) {
	type candidate struct {
		a    anchor
		dist float64
	}
	var near []candidate
	nearest := math.Inf(1)
	for _, t := range p.tunnels {
		a, d := t.project(x, y)
		if d <= tolerance {
			near = append(near, candidate{a, d})
			nearest = min(nearest, d)
		}
	}
	if len(near) == 0 {
		return s, false
	}

	ahead, behind := -1.0, -1.0
	for _, c := range near {
		if c.dist > nearest+tiedMeters {
			continue
		}
		if room := c.a.tunnel.length() - c.a.along; room > ahead {
			ahead, s.forward = room, c.a
		}
		if c.a.along > behind {
			behind, s.backward = c.a.along, c.a
		}
	}
	return s, true
}

// move returns the point dist metres along the tunnel from the anchor, in
// the direction described at the top of this file. z is interpolated along the
// tunnel when its vertices carry z, else it is stationZ. The cost is one
// step per vertex crossed.
func (a anchor) move(dist, stationZ float64) [3]float64 {
	t := a.tunnel
	target := min(max(a.along+dist, 0), t.length())
	i := a.segment
	for i+2 < len(t.along) && target > t.along[i+1] {
		i++
	}
	for i > 0 && target < t.along[i] {
		i--
	}

	p, q := t.points[i], t.points[i+1]
	f := 0.0
	if l := t.along[i+1] - t.along[i]; l > 0 {
		f = (target - t.along[i]) / l
	}
	pos := [3]float64{p[0] + f*(q[0]-p[0]), p[1] + f*(q[1]-p[1]), stationZ}
	if t.hasZ {
		pos[2] = p[2] + f*(q[2]-p[2])
	}
	return pos
}

// place moves a card from its station at pos by its signed distance.
func (s *stationAnchors) place(pos [3]float64, dist float64) [3]float64 {
	if dist < 0 {
		return s.backward.move(dist, pos[2])
	}
	return s.forward.move(dist, pos[2])
}

// anchorStations projects every station of an RYJZ file onto the plan.
// offPlan lists the stations with no tunnel within tolerance, sorted.
func anchorStations(p *minePlan, stations map[string][3]float64, tolerance float64) (
	anchors map[string]stationAnchors, offPlan []string) {
	anchors = make(map[string]stationAnchors, len(stations))
	for _, code := range sortedKeys(stations) {
		pos := stations[code]
		if a, ok := p.anchorStation(pos[0], pos[1], tolerance); ok {
			anchors[code] = a
		} else {
			offPlan = append(offPlan, code)
		}
	}
	return anchors, offPlan
}
