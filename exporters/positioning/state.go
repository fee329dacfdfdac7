package positioning

import (
	"sync"
	"time"
)

// tagState is the live state of one tag.
type tagState struct {
	Update
	// AreaType is the type of the area the tag is in; empty outside areas.
	AreaType string
	// Seen is the receipt time of the last message, which expiry uses, so
	// a tag whose clock is wrong still expires on time.
	Seen time.Time
	// Since is the receipt time of the tag's first message after it was
	// last absent; time underground counts from it.
	Since time.Time
}

type tagKey struct {
	mine string
	tag  string
}

// mineCounts are per-mine counters kept with the state.
type mineCounts struct {
	rejected  uint64
	messages  uint64
	lastData  time.Time
	lastTouch time.Time
}

// State is the live picture of every tag. Its methods are safe for
// concurrent use.
type State struct {
	mu      sync.Mutex
	tags    map[tagKey]*tagState
	mines   map[string]*mineCounts
	plans   map[string]*Plan
	maxTags int
	expiry  time.Duration
}

// NewState returns an empty state that holds at most maxTags tags and
// forgets a tag expiry after its last message.
func NewState(plans map[string]*Plan, maxTags int, expiry time.Duration) *State {
	if plans == nil {
		plans = map[string]*Plan{}
	}
	return &State{
		tags:    map[tagKey]*tagState{},
		mines:   map[string]*mineCounts{},
		plans:   plans,
		maxTags: maxTags,
		expiry:  expiry,
	}
}

// Apply records an update received at now. It returns false when the tag
// is new and the state already holds the maximum number of tags.
func (s *State) Apply(u Update, now time.Time) bool {
	areaType := ""
	plan := s.plans[u.MineID]
	if u.Area == "" && plan != nil {
		if a := plan.Locate(u.X, u.Y, u.Z); a != nil {
			u.Area, areaType = a.Code, a.Type
		}
	} else if u.Area != "" {
		areaType = AreaOther
		if a := plan.Area(u.Area); a != nil {
			areaType = a.Type
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	mc := s.mines[u.MineID]
	if mc == nil {
		mc = &mineCounts{}
		s.mines[u.MineID] = mc
	}
	key := tagKey{u.MineID, u.TagID}
	t := s.tags[key]
	if t == nil {
		if len(s.tags) >= s.maxTags {
			mc.rejected++
			return false
		}
		t = &tagState{Since: now}
		s.tags[key] = t
	}
	t.Update = u
	t.AreaType = areaType
	t.Seen = now
	mc.messages++
	if u.Time.After(mc.lastData) {
		mc.lastData = u.Time
	}
	return true
}

// Expire removes tags not heard since now minus the expiry and returns how
// many it removed.
func (s *State) Expire(now time.Time) int {
	cutoff := now.Add(-s.expiry)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, t := range s.tags {
		if t.Seen.Before(cutoff) {
			delete(s.tags, k)
			n++
		}
	}
	return n
}

// Len returns the number of live tags.
func (s *State) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tags)
}

// Tag returns a copy of one tag's state.
func (s *State) Tag(mineID, tagID string) (tagState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tags[tagKey{mineID, tagID}]
	if !ok {
		return tagState{}, false
	}
	return *t, true
}

// snapshot is a consistent copy of the state for one scrape.
type snapshot struct {
	tags  []tagState
	mines map[string]mineCounts
}

// snapshot copies the tags heard within the expiry, so a scrape between
// two expiry sweeps never shows an expired tag.
func (s *State) snapshot(now time.Time) snapshot {
	cutoff := now.Add(-s.expiry)
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := snapshot{tags: make([]tagState, 0, len(s.tags)), mines: make(map[string]mineCounts, len(s.mines))}
	for _, t := range s.tags {
		if !t.Seen.Before(cutoff) {
			snap.tags = append(snap.tags, *t)
		}
	}
	for id, mc := range s.mines {
		snap.mines[id] = *mc
	}
	return snap
}
