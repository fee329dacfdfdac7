package video

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Phase is where a raw event stands in the life of what it reports.
type Phase int

const (
	// PhaseStart begins a new occurrence: pulse events are counted again.
	PhaseStart Phase = iota
	// PhaseUpdate continues an occurrence: it refreshes state events and
	// counts only pulse events not yet counted for its key.
	PhaseUpdate
	// PhaseEnd ends the occurrence and every state event it holds.
	PhaseEnd
)

// Raw is one event as a camera, AI box or Frigate reported it, before
// mapping to the vocabulary.
type Raw struct {
	// Format is the input format, a bounded label value such as
	// hikvision_xml or frigate.
	Format string
	MineID string
	// Camera is the name the sender used for the camera.
	Camera string
	// Key identifies the occurrence across messages (a Frigate event id,
	// an ONVIF rule, a Hikvision channel and event type).
	Key   string
	Phase Phase
	Type  string
	Label string
	Zones []string
	// Event, when set, is already a vocabulary event and skips mapping.
	Event string
}

// ErrUnknownCamera is returned for events of a camera that no camera entry
// of the config names.
var ErrUnknownCamera = errors.New("unknown camera")

// maxOccurrences bounds the occurrences tracked at once, so a sender that
// invents a new key per message cannot grow memory without limit.
const maxOccurrences = 100_000

// Engine maps raw events to vocabulary events per camera, keeps state
// events active until their end or timeout, and records the metrics.
// Its methods are safe for concurrent use.
type Engine struct {
	now          func() time.Time
	stateTimeout time.Duration

	mu          sync.Mutex
	cameras     map[string]*cameraMap // by mine id + "\x00" + name
	states      map[stateKey]map[string]time.Time
	occurrences map[string]*occurrence

	events   *prometheus.CounterVec
	active   *prometheus.GaugeVec
	received *prometheus.CounterVec
	unmapped *prometheus.CounterVec
	dropped  *prometheus.CounterVec
}

type cameraMap struct {
	id, mineID string
	mappings   []Mapping
}

type stateKey struct{ mineID, camera, event string }

// occurrence remembers what one key has done, so that updates neither
// count a pulse twice nor leave a state event held after its zone is left.
type occurrence struct {
	counted map[string]bool
	holds   map[string]bool
	expires time.Time
}

// NewEngine creates the engine for the cameras in cfg and registers its
// metrics with reg. The series of every camera and event start at 0, so
// that rules see the first occurrence as an increase.
func NewEngine(cfg *Config, reg prometheus.Registerer, now func() time.Time) *Engine {
	e := &Engine{
		now:          now,
		stateTimeout: cfg.StateTimeout,
		cameras:      map[string]*cameraMap{},
		states:       map[stateKey]map[string]time.Time{},
		occurrences:  map[string]*occurrence{},
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_video_events_total",
			Help: "Vocabulary events seen per camera; a state event counts when it becomes active.",
		}, []string{"mine_id", "camera", "event"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mine_video_event_active",
			Help: "1 while a state event of the camera lasts, 0 otherwise.",
		}, []string{"mine_id", "camera", "event"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_video_received_total",
			Help: "Raw events received, by input format, before mapping.",
		}, []string{"mine_id", "format"}),
		unmapped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_video_unmapped_total",
			Help: "Raw events of a known camera that no mapping of the camera matched.",
		}, []string{"mine_id", "camera", "format"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_video_dropped_total",
			Help: "Raw events dropped before mapping, by reason.",
		}, []string{"mine_id", "format", "reason"}),
	}
	reg.MustRegister(e.events, e.active, e.received, e.unmapped, e.dropped)

	for i := range cfg.Cameras {
		c := &cfg.Cameras[i]
		cm := &cameraMap{id: c.ID, mineID: c.MineID, mappings: c.Events}
		e.cameras[c.MineID+"\x00"+c.ID] = cm
		for _, name := range c.Names {
			e.cameras[c.MineID+"\x00"+name] = cm
		}
		// Every event, mapped or not, since our own JSON shape may name
		// any vocabulary event directly.
		for _, ev := range Vocabulary {
			e.events.WithLabelValues(c.MineID, c.ID, ev)
			if IsStateEvent(ev) {
				e.active.WithLabelValues(c.MineID, c.ID, ev).Set(0)
			}
		}
	}
	return e
}

// Drop counts a raw event rejected before mapping, such as a malformed
// message or a full queue. reason is a short snake_case word.
func (e *Engine) Drop(mineID, format, reason string) {
	e.dropped.WithLabelValues(mineID, format, reason).Inc()
}

// CameraID returns the configured camera id for a raw camera name.
func (e *Engine) CameraID(mineID, name string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.cameras[mineID+"\x00"+name]
	if !ok {
		return "", false
	}
	return c.id, true
}

// Observe maps one raw event and updates the counters and states. It
// returns ErrUnknownCamera (wrapped with the name) for a camera that is
// not configured, and counts it as dropped.
func (e *Engine) Observe(r Raw) error {
	e.received.WithLabelValues(r.MineID, r.Format).Inc()
	now := e.now()

	e.mu.Lock()
	defer e.mu.Unlock()

	cam, ok := e.cameras[r.MineID+"\x00"+r.Camera]
	if !ok {
		e.dropped.WithLabelValues(r.MineID, r.Format, "unknown_camera").Inc()
		return fmt.Errorf("camera %q of mine %s: %w: add it to video.cameras[].names",
			r.Camera, r.MineID, ErrUnknownCamera)
	}

	matched := cam.match(r, e.stateTimeout)
	if len(matched) == 0 && r.Phase != PhaseEnd {
		e.unmapped.WithLabelValues(cam.mineID, cam.id, r.Format).Inc()
	}

	occKey := cam.mineID + "\x00" + cam.id + "\x00" + r.Key
	occ := e.occurrences[occKey]
	if occ == nil {
		if len(e.occurrences) >= maxOccurrences {
			e.dropped.WithLabelValues(r.MineID, r.Format, "too_many_occurrences").Inc()
			return fmt.Errorf("camera %s of mine %s: %d occurrences are open, event with key %q dropped",
				cam.id, cam.mineID, maxOccurrences, r.Key)
		}
		occ = &occurrence{counted: map[string]bool{}, holds: map[string]bool{}}
		e.occurrences[occKey] = occ
	}

	if r.Phase == PhaseEnd {
		for _, m := range matched {
			if !IsStateEvent(m.event) && !occ.counted[m.event] {
				e.events.WithLabelValues(cam.mineID, cam.id, m.event).Inc()
			}
		}
		for ev := range occ.holds {
			e.release(stateKey{cam.mineID, cam.id, ev}, r.Key)
		}
		delete(e.occurrences, occKey)
		return nil
	}

	if r.Phase == PhaseStart {
		clear(occ.counted)
	}
	held := map[string]bool{}
	longest := e.stateTimeout
	for _, m := range matched {
		longest = max(longest, m.timeout)
		if IsStateEvent(m.event) {
			e.hold(stateKey{cam.mineID, cam.id, m.event}, r.Key, now.Add(m.timeout))
			held[m.event] = true
			continue
		}
		if !occ.counted[m.event] {
			e.events.WithLabelValues(cam.mineID, cam.id, m.event).Inc()
			occ.counted[m.event] = true
		}
	}
	for ev := range occ.holds {
		if !held[ev] {
			e.release(stateKey{cam.mineID, cam.id, ev}, r.Key)
		}
	}
	occ.holds = held
	occ.expires = now.Add(longest)
	return nil
}

type matchedEvent struct {
	event   string
	timeout time.Duration
}

// match returns the vocabulary events a raw event maps to, each once.
func (c *cameraMap) match(r Raw, defaultTimeout time.Duration) []matchedEvent {
	if r.Event != "" {
		return []matchedEvent{{r.Event, defaultTimeout}}
	}
	var out []matchedEvent
	for _, m := range c.mappings {
		if !matchField(m.Type, r.Type) || !matchField(m.Label, r.Label) || !matchZone(m.Zone, r.Zones) {
			continue
		}
		timeout := m.Timeout
		if timeout == 0 {
			timeout = defaultTimeout
		}
		dup := false
		for i := range out {
			if out[i].event == m.Event {
				out[i].timeout = max(out[i].timeout, timeout)
				dup = true
			}
		}
		if !dup {
			out = append(out, matchedEvent{m.Event, timeout})
		}
	}
	return out
}

func matchField(pattern, value string) bool {
	return pattern == "" || strings.EqualFold(pattern, value)
}

func matchZone(pattern string, zones []string) bool {
	if pattern == "" {
		return true
	}
	for _, z := range zones {
		if strings.EqualFold(pattern, z) {
			return true
		}
	}
	return false
}

// hold makes key a holder of a state event until expires; the event
// becomes active (and is counted) when it gets its first holder.
func (e *Engine) hold(k stateKey, key string, expires time.Time) {
	holders := e.states[k]
	if holders == nil {
		holders = map[string]time.Time{}
		e.states[k] = holders
	}
	if len(holders) == 0 {
		e.events.WithLabelValues(k.mineID, k.camera, k.event).Inc()
		e.active.WithLabelValues(k.mineID, k.camera, k.event).Set(1)
	}
	holders[key] = expires
}

func (e *Engine) release(k stateKey, key string) {
	holders := e.states[k]
	if _, ok := holders[key]; !ok {
		return
	}
	delete(holders, key)
	if len(holders) == 0 {
		e.active.WithLabelValues(k.mineID, k.camera, k.event).Set(0)
	}
}

// Sweep ends state events whose holders all timed out and forgets
// expired occurrences. The source calls it every second.
func (e *Engine) Sweep() {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, holders := range e.states {
		if len(holders) == 0 {
			continue
		}
		for key, expires := range holders {
			if !now.Before(expires) {
				delete(holders, key)
			}
		}
		if len(holders) == 0 {
			e.active.WithLabelValues(k.mineID, k.camera, k.event).Set(0)
		}
	}
	for key, occ := range e.occurrences {
		if !now.Before(occ.expires) {
			delete(e.occurrences, key)
		}
	}
}
