package national

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minewatch/minewatch/exporters/registry"
)

// content is the typed data of one file. samples derives its metrics at
// the file's data time; snapshot types read the mine's current reference
// data (areas, stations, approved persons) to do so.
type content interface {
	fileType() string
	dataTime() time.Time
	samples(m *mineState, reg *registry.Mine, out []sample) []sample
}

// Record outcomes in mine_national_records_total.
const (
	RecordOK              = "ok"
	RecordWrongFieldCount = "wrong_field_count"
	RecordInvalidValue    = "invalid_value"
)

// Area types, the shared area_type label values.
const (
	AreaShaftMouth = "shaft_mouth"
	AreaKey        = "key"
	AreaRestricted = "restricted"
	AreaOther      = "other"
)

func areaType(name string) string {
	switch name {
	case "井口区域":
		return AreaShaftMouth
	case "重点区域":
		return AreaKey
	case "限制区域":
		return AreaRestricted
	}
	return AreaOther
}

// decodeContent turns a parsed file into typed content. invalid counts
// records dropped for a value that cannot be used (an empty code, a
// number that does not parse).
func decodeContent(f *File) (c content, invalid int) {
	t := f.HeaderTime
	switch f.Name.Type {
	case TypeRYQY:
		a := &areasContent{time: t, areas: make(map[string]areaInfo, len(f.Records))}
		for _, r := range f.Records {
			limit, err := strconv.Atoi(strings.TrimSpace(r[2]))
			if r[1] == "" || err != nil || limit < 0 {
				invalid++
				continue
			}
			a.areas[r[1]] = areaInfo{typ: areaType(r[0]), limit: limit}
		}
		return a, invalid
	case TypeRYJZ:
		s := &stationsContent{time: t, stations: make(map[string][3]float64, len(f.Records))}
		for _, r := range f.Records {
			x, ex := strconv.ParseFloat(strings.TrimSpace(r[2]), 64)
			y, ey := strconv.ParseFloat(strings.TrimSpace(r[3]), 64)
			z, ez := strconv.ParseFloat(strings.TrimSpace(r[4]), 64)
			if r[0] == "" || ex != nil || ey != nil || ez != nil {
				invalid++
				continue
			}
			s.stations[r[0]] = [3]float64{x, y, z}
		}
		return s, invalid
	case TypeRYXX:
		p := &peopleContent{time: t, approved: -1}
		if n, err := strconv.Atoi(strings.TrimSpace(f.Header[2])); err == nil && n >= 0 {
			p.approved = n
		}
		for _, r := range f.Records {
			if r[0] == "" {
				invalid++
				continue
			}
			p.registered++
		}
		return p, invalid
	case TypeRYSS:
		return decodeRYSS(f)
	case TypeJZSS:
		s := &stationStateContent{time: t, stations: make([]stationState, 0, len(f.Records))}
		for _, r := range f.Records {
			run, err := strconv.Atoi(strings.TrimSpace(r[1]))
			if r[0] == "" || err != nil {
				invalid++
				continue
			}
			at, ok := parseTime(r[3])
			if !ok {
				at = t
			}
			s.stations = append(s.stations, stationState{code: r[0], up: run == 0, time: at})
		}
		return s, invalid
	case TypeCDSS:
		return decodeCDSS(f)
	}
	return decodeAlarms(f)
}

type areaInfo struct {
	typ   string
	limit int
}

type areasContent struct {
	time  time.Time
	areas map[string]areaInfo
}

func (a *areasContent) fileType() string    { return TypeRYQY }
func (a *areasContent) dataTime() time.Time { return a.time }

func (a *areasContent) samples(m *mineState, reg *registry.Mine, out []sample) []sample {
	ts := millis(a.time)
	for _, code := range sortedKeys(a.areas) {
		info := a.areas[code]
		out = append(out, sample{def: mAreaLimit, labels: [4]string{m.id, code, info.typ, station},
			value: float64(areaLimit(reg, code, info.limit)), time: ts})
	}
	return append(out, feedSample(m.id, TypeRYQY, a.time))
}

// areaLimit is the registry's limit for an area when it has one, else the
// approved persons from RYQY.
func areaLimit(reg *registry.Mine, area string, fromFile int) int {
	if limit, ok := registryLimit(reg, area); ok {
		return limit
	}
	return fromFile
}

func registryLimit(reg *registry.Mine, area string) (int, bool) {
	if reg == nil {
		return 0, false
	}
	limit, ok := reg.AreaLimits[area]
	return limit, ok
}

type stationsContent struct {
	time     time.Time
	stations map[string][3]float64
}

func (s *stationsContent) fileType() string    { return TypeRYJZ }
func (s *stationsContent) dataTime() time.Time { return s.time }

var axes = [3]string{"x", "y", "z"}

func (s *stationsContent) samples(m *mineState, _ *registry.Mine, out []sample) []sample {
	ts := millis(s.time)
	for _, code := range sortedKeys(s.stations) {
		pos := s.stations[code]
		for i, axis := range axes {
			out = append(out, sample{def: mStationPosition, labels: [4]string{m.id, code, axis},
				value: pos[i], time: ts})
		}
	}
	return append(out, feedSample(m.id, TypeRYJZ, s.time))
}

type peopleContent struct {
	time       time.Time
	approved   int // -1 when the header has no number
	registered int
}

func (p *peopleContent) fileType() string    { return TypeRYXX }
func (p *peopleContent) dataTime() time.Time { return p.time }

func (p *peopleContent) samples(m *mineState, _ *registry.Mine, out []sample) []sample {
	ts := millis(p.time)
	if p.approved >= 0 {
		out = append(out, sample{def: mApproved, labels: [4]string{m.id}, value: float64(p.approved), time: ts})
	}
	out = append(out, sample{def: mRegistered, labels: [4]string{m.id}, value: float64(p.registered), time: ts})
	return append(out, feedSample(m.id, TypeRYXX, p.time))
}

type stationState struct {
	code string
	up   bool
	time time.Time
}

type stationStateContent struct {
	time     time.Time
	stations []stationState
}

func (s *stationStateContent) fileType() string    { return TypeJZSS }
func (s *stationStateContent) dataTime() time.Time { return s.time }

func (s *stationStateContent) samples(m *mineState, _ *registry.Mine, out []sample) []sample {
	for _, st := range s.stations {
		out = append(out, sample{def: mStationUp, labels: [4]string{m.id, st.code},
			value: boolValue(st.up), time: millis(st.time)})
	}
	return append(out, feedSample(m.id, TypeJZSS, s.time))
}

// CDSS sensor type codes used for production checks.
const (
	sensorEquipment = "1004"
	sensorMainFan   = "1010"
	sensorOutput    = "3001"
)

type point struct {
	code, sensorType string
	value            float64
	status           int
	time             time.Time
}

type cdssContent struct {
	time   time.Time
	points []point
}

func decodeCDSS(f *File) (content, int) {
	c := &cdssContent{time: f.HeaderTime, points: make([]point, 0, len(f.Records))}
	invalid := 0
	for _, r := range f.Records {
		v, err := strconv.ParseFloat(strings.TrimSpace(r[3]), 64)
		if r[0] == "" || err != nil {
			invalid++
			continue
		}
		status, err := strconv.Atoi(strings.TrimSpace(r[5]))
		if err != nil {
			status = 0
			if strings.TrimSpace(r[5]) != "" {
				invalid++
				continue
			}
		}
		at, ok := parseTime(r[6])
		if !ok {
			at = f.HeaderTime
		}
		c.points = append(c.points, point{code: r[0], sensorType: sensorType(r[0]), value: v,
			status: status, time: at})
	}
	return c, invalid
}

// sensorType extracts the 4-digit sensor type from a point code: mine code,
// system number, two letters for the point kind (MN analog, KG switch, LJ
// accumulated), the sensor type, then a sequence number, for example
// 32038200010101KG1004003. It returns "unknown" for other shapes.
func sensorType(code string) string {
	for i := 0; i+6 <= len(code); i++ {
		if isUpper(code[i]) && isUpper(code[i+1]) {
			if t := code[i+2 : i+6]; allDigits(t) {
				return t
			}
			break
		}
	}
	return "unknown"
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func (c *cdssContent) fileType() string    { return TypeCDSS }
func (c *cdssContent) dataTime() time.Time { return c.time }

func (c *cdssContent) samples(m *mineState, _ *registry.Mine, out []sample) []sample {
	output, hasOutput := 0.0, false
	for _, p := range c.points {
		ts := millis(p.time)
		out = append(out,
			sample{def: mSensorValue, labels: [4]string{m.id, p.code, p.sensorType}, value: p.value, time: ts},
			sample{def: mSensorStatus, labels: [4]string{m.id, p.code, p.sensorType}, value: float64(p.status), time: ts})
		switch p.sensorType {
		case sensorEquipment:
			out = append(out, sample{def: mEquipmentOn, labels: [4]string{m.id, p.code}, value: boolValue(p.value != 0), time: ts})
		case sensorMainFan:
			out = append(out, sample{def: mMainFanOn, labels: [4]string{m.id, p.code}, value: boolValue(p.value != 0), time: ts})
		case sensorOutput:
			output += p.value
			hasOutput = true
		}
	}
	if hasOutput {
		out = append(out, sample{def: mOutput, labels: [4]string{m.id, "cdss"}, value: output, time: millis(c.time)})
	}
	return append(out, feedSample(m.id, TypeCDSS, c.time))
}

// Alarm kinds, the alarm label of mine_national_alarms_active.
var alarmKinds = map[string]string{
	TypeRYCS: "overtime",
	TypeRYCY: "overcrowding",
	TypeRYXZ: "restricted_area",
	TypeRYQJ: "sos",
}

type alarmContent struct {
	typ    string
	time   time.Time
	active int
}

func decodeAlarms(f *File) (content, int) {
	a := &alarmContent{typ: f.Name.Type, time: f.HeaderTime}
	invalid := 0
	for _, r := range f.Records {
		if _, ok := parseTime(r[1]); r[0] == "" || !ok {
			invalid++
			continue
		}
		if strings.TrimSpace(r[2]) == "" {
			a.active++
		}
	}
	return a, invalid
}

func (a *alarmContent) fileType() string    { return a.typ }
func (a *alarmContent) dataTime() time.Time { return a.time }

func (a *alarmContent) samples(m *mineState, _ *registry.Mine, out []sample) []sample {
	out = append(out, sample{def: mAlarmsActive, labels: [4]string{m.id, alarmKinds[a.typ]},
		value: float64(a.active), time: millis(a.time)})
	return append(out, feedSample(m.id, a.typ, a.time))
}

func feedSample(mineID, feed string, t time.Time) sample {
	return sample{def: mFeedTime, labels: [4]string{mineID, feed}, value: float64(t.Unix()), time: millis(t)}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
