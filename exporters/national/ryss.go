package national

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/minewatch/minewatch/exporters/registry"
)

// In/out flags of an RYSS record.
const (
	flagShaftMouth  = '0'
	flagUnderground = '1'
	flagCameUp      = '2'
)

// sosState is the RYSS state of a card calling for help (求救).
const sosState = "求救"

// card is one RYSS record. Strings are substrings of the file's text.
type card struct {
	code    string
	area    string
	station string
	// down is when the card went underground, Unix seconds; 0 if unknown.
	down int64
	// distance is the signed distance to the station along the tunnel, in
	// metres. hasDistance is false when the field is empty or not a finite
	// number.
	distance    float64
	hasDistance bool
	flag        byte
	sos         bool
}

type ryssContent struct {
	time  time.Time
	cards []card
}

// decodeRYSS reads the fields: card; name; in/out flag; time down; time
// up; area code; time entered area; station code; time at station; shift
// pattern; signed distance to station; state; is mine leader; is
// special-trade worker; track. The name is never kept. A record without a
// card code or with an unknown flag is invalid; an unreadable time down
// only loses that card's time underground, and an unreadable distance
// leaves the card at its station.
func decodeRYSS(f *File) (content, int) {
	c := &ryssContent{time: f.HeaderTime, cards: make([]card, 0, len(f.Records))}
	invalid := 0
	for _, r := range f.Records {
		flag := r[2]
		if r[0] == "" || len(flag) != 1 || flag[0] < flagShaftMouth || flag[0] > flagCameUp {
			invalid++
			continue
		}
		k := card{code: r[0], area: r[5], station: r[7], flag: flag[0], sos: r[11] == sosState}
		if t, ok := parseTime(r[3]); ok {
			k.down = t.Unix()
		}
		if d, err := strconv.ParseFloat(strings.TrimSpace(r[10]), 64); err == nil && !math.IsInf(d, 0) && !math.IsNaN(d) {
			k.distance, k.hasDistance = d, true
		}
		c.cards = append(c.cards, k)
	}
	return c, invalid
}

func (c *ryssContent) fileType() string    { return TypeRYSS }
func (c *ryssContent) dataTime() time.Time { return c.time }

// samples derives the headcount, the persons and limit per area, and the
// per-card series of every card underground. Cards not in this file get
// no series, so a card that came up disappears.
func (c *ryssContent) samples(m *mineState, reg *registry.Mine, out []sample) []sample {
	ts := millis(c.time)
	now := c.time.Unix()
	var areas map[string]areaInfo
	if m.areas != nil {
		areas = m.areas.areas
	}

	underground, restricted := 0, 0
	perArea := make(map[string]int, len(areas)+4)
	for i := range c.cards {
		k := &c.cards[i]
		if k.flag == flagCameUp {
			continue
		}
		if k.area != "" {
			perArea[k.area]++
		}
		if k.flag != flagUnderground {
			continue
		}
		underground++
		if areas[k.area].typ == AreaRestricted {
			restricted++
		}
		out = append(out, sample{def: mPersonSOS, labels: [4]string{m.id, k.code, station}, value: boolValue(k.sos), time: ts})
		if k.down > 0 && k.down <= now {
			out = append(out, sample{def: mPersonSeconds, labels: [4]string{m.id, k.code, station},
				value: float64(now - k.down), time: ts})
		}
		if pos, _, ok := m.cardPosition(k); ok {
			for a, axis := range axes {
				out = append(out, sample{def: mPersonPosition, labels: [4]string{m.id, k.code, axis, station},
					value: pos[a], time: ts})
			}
		}
	}

	out = append(out,
		sample{def: mUndergroundPersons, labels: [4]string{m.id, station}, value: float64(underground), time: ts},
		sample{def: mRestrictedPersons, labels: [4]string{m.id, station}, value: float64(restricted), time: ts})

	// Every known area gets a count, 0 included, so that an area that
	// emptied reads 0 rather than going silent. Limits are written again
	// with each snapshot so that rules find both at the same data time.
	for _, code := range areaCodes(areas, reg, perArea) {
		info, known := areas[code]
		typ := info.typ
		if !known {
			typ = AreaOther
		}
		out = append(out, sample{def: mAreaPersons, labels: [4]string{m.id, code, typ, station},
			value: float64(perArea[code]), time: ts})
		_, inRegistry := registryLimit(reg, code)
		if known || inRegistry {
			out = append(out, sample{def: mAreaLimit, labels: [4]string{m.id, code, typ, station},
				value: float64(areaLimit(reg, code, info.limit)), time: ts})
		}
	}
	if m.people != nil && m.people.approved >= 0 {
		out = append(out, sample{def: mApproved, labels: [4]string{m.id}, value: float64(m.people.approved), time: ts})
	}
	return append(out, feedSample(m.id, TypeRYSS, c.time))
}

// areaCodes lists the areas of RYQY, of the registry's limits and of the
// snapshot, sorted.
func areaCodes(areas map[string]areaInfo, reg *registry.Mine, seen map[string]int) []string {
	all := make(map[string]struct{}, len(areas)+len(seen))
	for code := range areas {
		all[code] = struct{}{}
	}
	if reg != nil {
		for code := range reg.AreaLimits {
			all[code] = struct{}{}
		}
	}
	for code := range seen {
		all[code] = struct{}{}
	}
	return sortedKeys(all)
}
