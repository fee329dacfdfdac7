// Package sim plays simulated mines for the demo, the end-to-end tests and
// the benchmarks. One scenario file describes each mine and a timeline of
// states; every channel (national files, Modbus terminals, MQTT tags,
// cameras and AI events) reads the same timeline, so one scenario tells the
// same story through every channel.
package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// States a mine can be in. Several can hold at once, for example
// secret_night_work with dispatch_empty.
const (
	StateProducing         = "producing"
	StateMaintenanceStop   = "maintenance_stop"
	StateSecretNightWork   = "secret_night_work"
	StateFanStopped        = "fan_stopped"
	StatePumpsStopped      = "pumps_stopped"
	StateDispatchEmpty     = "dispatch_empty"
	StateOvercrowdedFace   = "overcrowded_face"
	StateRestrictedEntry   = "restricted_entry"
	StateVehicleNearPerson = "vehicle_near_person"
	StateSOS               = "sos"
	StateFeedSilent        = "feed_silent"
)

// States lists every known state.
var States = []string{StateProducing, StateMaintenanceStop, StateSecretNightWork,
	StateFanStopped, StatePumpsStopped, StateDispatchEmpty, StateOvercrowdedFace,
	StateRestrictedEntry, StateVehicleNearPerson, StateSOS, StateFeedSilent}

// Scenario is one parsed scenario file.
type Scenario struct {
	// Speed multiplies the passing of time: 60 plays an hour a minute.
	// Default 1.
	Speed float64 `yaml:"speed"`
	Mines []Mine  `yaml:"mines"`

	// Dir is the scenario file's folder; relative paths resolve from it.
	Dir string `yaml:"-"`
	// Clock maps wall time to scenario time.
	Clock *Clock `yaml:"-"`
}

// Mine is one simulated mine. Each channel reads its own section and
// decodes it strictly itself, so channels evolve independently.
type Mine struct {
	ID       string  `yaml:"mine_id"`
	Timeline []Entry `yaml:"timeline"`

	National    yaml.Node `yaml:"national"`
	Power       yaml.Node `yaml:"power"`
	Positioning yaml.Node `yaml:"positioning"`
	Video       yaml.Node `yaml:"video"`
}

// Entry switches a mine to a set of states from an offset after the
// scenario start. The last entry holds until the end; the timeline repeats
// when Repeat is set on the mine's last entry.
type Entry struct {
	At     time.Duration `yaml:"at"`
	States []string      `yaml:"states"`
	// Repeat, on the last entry, restarts the timeline after this long.
	Repeat time.Duration `yaml:"repeat"`
}

// Load reads a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read scenario: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Dir = filepath.Dir(path)
	return s, nil
}

// Parse decodes a scenario strictly and validates its timelines.
func Parse(data []byte) (*Scenario, error) {
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("invalid scenario: %w", err)
	}
	if s.Speed == 0 {
		s.Speed = 1
	}
	if s.Speed < 0 {
		return nil, errors.New("speed must be positive")
	}
	var errs []error
	for i := range s.Mines {
		m := &s.Mines[i]
		if len(m.ID) != 12 {
			errs = append(errs, fmt.Errorf("mines[%d].mine_id %q must be 12 digits", i, m.ID))
		}
		if !sort.SliceIsSorted(m.Timeline, func(a, b int) bool { return m.Timeline[a].At < m.Timeline[b].At }) {
			errs = append(errs, fmt.Errorf("mine %s: timeline entries must be in order of at", m.ID))
		}
		for j, e := range m.Timeline {
			for _, st := range e.States {
				if !slices.Contains(States, st) {
					errs = append(errs, fmt.Errorf("mine %s: timeline[%d]: unknown state %q, expected one of %s",
						m.ID, j, st, strings.Join(States, ", ")))
				}
			}
			if e.Repeat != 0 && j != len(m.Timeline)-1 {
				errs = append(errs, fmt.Errorf("mine %s: timeline[%d]: repeat is only allowed on the last entry", m.ID, j))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.Clock = NewClock(time.Now(), s.Speed)
	return &s, nil
}

// Mine returns the mine with the given id, or nil.
func (s *Scenario) Mine(id string) *Mine {
	for i := range s.Mines {
		if s.Mines[i].ID == id {
			return &s.Mines[i]
		}
	}
	return nil
}

// Path resolves a path from the scenario file's folder.
func (s *Scenario) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// StatesAt returns the states that hold at elapsed scenario time since
// the start. Before the first entry the mine is producing.
func (m *Mine) StatesAt(elapsed time.Duration) []string {
	if len(m.Timeline) == 0 {
		return []string{StateProducing}
	}
	last := m.Timeline[len(m.Timeline)-1]
	if last.Repeat > 0 {
		period := last.At + last.Repeat
		elapsed %= period
	}
	current := []string{StateProducing}
	for _, e := range m.Timeline {
		if e.At > elapsed {
			break
		}
		current = e.States
	}
	return current
}

// In reports whether state holds at elapsed.
func (m *Mine) In(state string, elapsed time.Duration) bool {
	return slices.Contains(m.StatesAt(elapsed), state)
}

// Decode decodes a channel section strictly into out. An empty section
// leaves out unchanged and returns false.
func Decode(node *yaml.Node, out any) (bool, error) {
	if node.Kind == 0 {
		return false, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(node); err != nil {
		return false, err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		return false, fmt.Errorf("line %d: %w", node.Line, err)
	}
	return true, nil
}
