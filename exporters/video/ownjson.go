package video

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// OwnEvent is the plain JSON shape of our own, for AI boxes that can post
// a template. Either Event names a vocabulary event directly, or Type,
// Label and Zones go through the camera's mappings.
type OwnEvent struct {
	Camera string   `json:"camera"`
	Event  string   `json:"event,omitempty"`
	Type   string   `json:"type,omitempty"`
	Label  string   `json:"label,omitempty"`
	Zones  []string `json:"zones,omitempty"`
	// State is start (default), update or end.
	State string `json:"state,omitempty"`
	// ID identifies the occurrence across start, update and end.
	ID string `json:"id,omitempty"`
	// Time is when the camera saw it (RFC 3339); informational.
	Time *time.Time `json:"time,omitempty"`
}

// ParseOwnJSON decodes one event object or an array of them. Unknown
// fields are an error, so that a typo in a sender's template shows at once.
func ParseOwnJSON(data []byte) ([]OwnEvent, error) {
	data = bytes.TrimSpace(data)
	var events []OwnEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var err error
	if len(data) > 0 && data[0] == '[' {
		err = dec.Decode(&events)
	} else {
		var one OwnEvent
		err = dec.Decode(&one)
		events = []OwnEvent{one}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid event JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid event JSON: data after the first value; send one object or one array")
	}
	for i, ev := range events {
		if err := ev.validate(); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
	}
	return events, nil
}

func (ev *OwnEvent) validate() error {
	if ev.Camera == "" {
		return errors.New(`missing "camera"`)
	}
	if ev.Event == "" && ev.Type == "" && ev.Label == "" {
		return errors.New(`set "event" to a vocabulary event, or "type" or "label" for the camera's mappings`)
	}
	if ev.Event != "" && !IsVocabulary(ev.Event) {
		return fmt.Errorf(`"event" %q is not in the vocabulary`, ev.Event)
	}
	switch ev.State {
	case "", "start", "update", "end":
	default:
		return fmt.Errorf(`"state" %q must be start, update or end`, ev.State)
	}
	return nil
}

// Raw converts the event into a raw event of mineID.
func (ev *OwnEvent) Raw(mineID string) Raw {
	r := Raw{Format: "json", MineID: mineID, Camera: ev.Camera, Event: ev.Event,
		Type: ev.Type, Label: ev.Label, Zones: ev.Zones, Phase: PhaseStart}
	r.Key = "json/" + ev.ID
	if ev.ID == "" {
		r.Key = "json/" + ev.Event + "/" + ev.Type
	}
	switch ev.State {
	case "update":
		r.Phase = PhaseUpdate
	case "end":
		r.Phase = PhaseEnd
	}
	return r
}
