// Package video turns the outputs of mine cameras and AI boxes into
// metrics: Hikvision-style and our own webhook events over HTTP, Frigate
// events over MQTT, and the RTSP streams themselves (health and the ONVIF
// metadata track). Raw event types, labels and zones map per camera to a
// closed vocabulary of events.
package video

import "slices"

// The closed event vocabulary. State events last from a start to an end
// (or a timeout); the others are single occurrences that are only counted.
const (
	EventPersonIn         = "person_in"
	EventPersonOut        = "person_out"
	EventBeltRunning      = "belt_running"
	EventBeltLoaded       = "belt_loaded"
	EventTruckOut         = "truck_out"
	EventDispatchAbsent   = "dispatch_absent"
	EventDispatchAsleep   = "dispatch_asleep"
	EventCameraBlocked    = "camera_blocked"
	EventCameraMoved      = "camera_moved"
	EventDangerZonePerson = "danger_zone_person"
	EventNoHelmet         = "no_helmet"
)

// Vocabulary lists every event name that may appear as the event label.
var Vocabulary = []string{EventPersonIn, EventPersonOut, EventBeltRunning, EventBeltLoaded,
	EventTruckOut, EventDispatchAbsent, EventDispatchAsleep, EventCameraBlocked,
	EventCameraMoved, EventDangerZonePerson, EventNoHelmet}

var stateEvents = []string{EventBeltRunning, EventBeltLoaded, EventDispatchAbsent,
	EventDispatchAsleep, EventCameraBlocked, EventCameraMoved, EventDangerZonePerson}

// IsVocabulary reports whether name is an event of the vocabulary.
func IsVocabulary(name string) bool { return slices.Contains(Vocabulary, name) }

// IsStateEvent reports whether the event lasts until an end event or a
// timeout, such as belt_running, rather than being a single occurrence.
func IsStateEvent(name string) bool { return slices.Contains(stateEvents, name) }
