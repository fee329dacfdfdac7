package positioning

import (
	"math"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// Tag kinds.
const (
	KindPerson    = "person"
	KindVehicle   = "vehicle"
	KindEquipment = "equipment"
)

// Reasons a message is dropped, the reason label of
// mine_source_errors_total.
const (
	ReasonQueueFull      = "queue_full"
	ReasonUnknownTopic   = "unknown_topic"
	ReasonInvalidJSON    = "invalid_json"
	ReasonMissingMineID  = "missing_mine_id"
	ReasonInvalidMineID  = "invalid_mine_id"
	ReasonMissingTagID   = "missing_tag_id"
	ReasonUnknownKind    = "unknown_kind"
	ReasonInvalidPos     = "invalid_position"
	ReasonInvalidTime    = "invalid_time"
	ReasonInvalidArea    = "invalid_area"
	ReasonInvalidBattery = "invalid_battery"
	ReasonTagLimit       = "tag_limit"
)

// Update is one decoded tag message.
type Update struct {
	MineID string
	TagID  string
	Kind   string
	X      float64
	Y      float64
	Z      float64
	// Area is the 16-digit area code from the message, or empty.
	Area string
	// Time is the fix time from the message, or the time of receipt.
	Time time.Time
	// Battery is in percent; -1 when the message has none.
	Battery float64
	SOS     bool
}

// decodeError is a message rejected for one reason.
type decodeError struct {
	mineID string
	reason string
}

// decode maps one message of topic t to an Update. topicMine and topicTag
// are the ids taken from the topic's named levels.
func (t *Topic) decode(topicMine, topicTag string, payload []byte, received time.Time) (Update, *decodeError) {
	u := Update{MineID: topicMine, TagID: topicTag, Battery: -1}
	if t.MineID != "" {
		u.MineID = t.MineID
	}
	fail := func(reason string) (Update, *decodeError) {
		return Update{}, &decodeError{mineID: u.MineID, reason: reason}
	}
	if !gjson.ValidBytes(payload) {
		return fail(ReasonInvalidJSON)
	}
	f := &t.Fields
	r := gjson.GetManyBytes(payload, f.MineID, f.TagID, f.Kind, f.X, f.Y, f.Z, f.Area, f.Time, f.Battery, f.SOS)
	mine, tag, kind, x, y, z, area, ts, battery, sos := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]

	if f.MineID != "" && mine.Exists() {
		u.MineID = mine.String()
	}
	if u.MineID == "" {
		return fail(ReasonMissingMineID)
	}
	if !mineIDPattern.MatchString(u.MineID) {
		u.MineID = ""
		return fail(ReasonInvalidMineID)
	}
	if tag.Exists() && tag.String() != "" {
		u.TagID = tag.String()
	}
	if u.TagID == "" || len(u.TagID) > 64 {
		return fail(ReasonMissingTagID)
	}

	k, ok := t.kind(kind.String())
	if !ok {
		return fail(ReasonUnknownKind)
	}
	u.Kind = k

	var okX, okY, okZ bool
	u.X, okX = number(x)
	u.Y, okY = number(y)
	u.Z, okZ = number(z)
	if !z.Exists() {
		u.Z, okZ = 0, true
	}
	if !okX || !okY || !okZ {
		return fail(ReasonInvalidPos)
	}

	if area.Exists() && area.String() != "" {
		u.Area = area.String()
		if len(u.Area) != 16 || u.Area[:12] != u.MineID || !digits(u.Area) {
			return fail(ReasonInvalidArea)
		}
	}

	u.Time = received
	if ts.Exists() {
		tm, ok := timestamp(ts)
		if !ok {
			return fail(ReasonInvalidTime)
		}
		u.Time = tm
	}

	if battery.Exists() {
		b, ok := number(battery)
		if !ok || b < 0 || b > 100 {
			return fail(ReasonInvalidBattery)
		}
		u.Battery = b
	}
	u.SOS = sos.Bool()
	return u, nil
}

// kind maps a vendor kind value; the three kinds map to themselves.
func (t *Topic) kind(v string) (string, bool) {
	switch v {
	case KindPerson, KindVehicle, KindEquipment:
		return v, true
	}
	k, ok := t.Kinds[v]
	return k, ok
}

// number accepts JSON numbers and numeric strings, never NaN or infinity.
func number(r gjson.Result) (float64, bool) {
	var v float64
	switch r.Type {
	case gjson.Number:
		v = r.Num
	case gjson.String:
		f, err := strconv.ParseFloat(r.Str, 64)
		if err != nil {
			return 0, false
		}
		v = f
	default:
		return 0, false
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// timestamp accepts RFC 3339 strings and Unix time in seconds or, above
// 1e11, milliseconds.
func timestamp(r gjson.Result) (time.Time, bool) {
	switch r.Type {
	case gjson.String:
		tm, err := time.Parse(time.RFC3339Nano, r.Str)
		return tm, err == nil
	case gjson.Number:
		v := r.Num
		if v <= 0 || math.IsInf(v, 0) {
			return time.Time{}, false
		}
		if v > 1e11 {
			return time.UnixMilli(int64(v)), true
		}
		sec, frac := math.Modf(v)
		return time.Unix(int64(sec), int64(frac*1e9)), true
	}
	return time.Time{}, false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
