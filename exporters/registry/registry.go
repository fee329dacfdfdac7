// Package registry loads the regulator's mine registry (mines.yaml) and
// exposes it as metrics, so that alerting rules can join on mine_id.
package registry

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Mine kinds. A kind decides which rules apply: coal mines upload the
// national networking files, the others may not.
const (
	KindCoal          = "coal"
	KindMetalUnder    = "metal_underground"
	KindOpenPit       = "open_pit"
	KindTailingsDam   = "tailings_dam"
	KindNonMetalUnder = "nonmetal_underground"
)

// Statuses. Every status except StatusProducing forbids production: an
// ordered shutdown (停产整顿) keeps only ventilation and drainage load.
const (
	StatusProducing       = "producing"
	StatusOrderedShutdown = "ordered_shutdown"
	StatusRectification   = "rectification"
	StatusMaintenance     = "maintenance"
	StatusConstruction    = "construction"
	StatusClosed          = "closed"
)

// Machine classes that power terminals are mapped to.
const (
	MachineHoist      = "hoist"
	MachineMainFan    = "main_fan"
	MachineDrainage   = "drainage"
	MachineBelt       = "belt"
	MachineSubstation = "substation"
	MachineOther      = "other"
)

var (
	kinds = []string{KindCoal, KindMetalUnder, KindNonMetalUnder, KindOpenPit, KindTailingsDam}

	// Statuses lists every status in the order documented in docs/config.md.
	Statuses = []string{StatusProducing, StatusOrderedShutdown, StatusRectification,
		StatusMaintenance, StatusConstruction, StatusClosed}

	machineClasses = []string{MachineHoist, MachineMainFan, MachineDrainage, MachineBelt,
		MachineSubstation, MachineOther}

	mineCodePattern = regexp.MustCompile(`^[0-9]{12}$`)
	areaCodePattern = regexp.MustCompile(`^[0-9]{16}$`)
	labelPattern    = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
)

// Registry is the parsed mines.yaml.
type Registry struct {
	Mines []Mine `yaml:"mines"`

	byCode map[string]*Mine
}

// Mine is one supervised mine.
type Mine struct {
	// Code is the 12-digit mine code used in national file names.
	Code string `yaml:"code"`
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	City string `yaml:"city"`
	// County is the county-level district whose inspectors receive alerts.
	County string `yaml:"county"`
	Status string `yaml:"status"`

	// ApprovedCapacityTonnesPerYear is the production capacity in the
	// mining licence.
	ApprovedCapacityTonnesPerYear float64 `yaml:"approved_capacity_tonnes_per_year"`
	// ApprovedUndergroundPersons is the approved headcount underground at
	// once (核定下井人数).
	ApprovedUndergroundPersons int `yaml:"approved_underground_persons"`
	// MaintenanceCrewMax is the headcount allowed underground while the mine
	// is not producing (ventilation, drainage and gas patrols). Default 0.
	MaintenanceCrewMax int `yaml:"maintenance_crew_max"`
	// OvertimeUndergroundHours is the longest allowed stay underground.
	// Default 12.
	OvertimeUndergroundHours float64 `yaml:"overtime_underground_hours"`
	// AreaLimits overrides the approved persons per area from RYQY files,
	// keyed by 16-digit area code.
	AreaLimits map[string]int `yaml:"area_limits"`
	// Machines maps power terminals to machine classes.
	Machines []Machine `yaml:"machines"`
	// Inspectors names the inspectors' team (an Alertmanager receiver).
	Inspectors string `yaml:"inspectors"`

	line int
}

// Machine maps one power terminal to a machine.
type Machine struct {
	// Terminal is the terminal name used in the power source's config.
	Terminal string `yaml:"terminal"`
	// Name identifies the machine within the mine, for example main_hoist.
	Name  string `yaml:"name"`
	Class string `yaml:"class"`
	// IdleThresholdAmperes is the phase current below which the machine
	// counts as stopped.
	IdleThresholdAmperes float64 `yaml:"idle_threshold_amperes"`
}

// Load reads and validates a registry file. Errors name the file, the line
// and the reason.
func Load(path string) (*Registry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read mine registry: %w", err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Parse decodes and validates registry YAML. Unknown keys are errors.
func Parse(data []byte) (*Registry, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}

	var r Registry
	if err := root.Decode(&r); err != nil {
		return nil, fmt.Errorf("invalid registry: %w", err)
	}
	// yaml.Node.Decode ignores KnownFields, so decode strictly a second time.
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&Registry{}); err != nil {
		return nil, fmt.Errorf("invalid registry: %w", err)
	}
	recordLines(&root, &r)

	if err := r.validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// recordLines stores each mine's line number for error messages.
func recordLines(root *yaml.Node, r *Registry) {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "mines" {
			continue
		}
		list := top.Content[i+1]
		for j, item := range list.Content {
			if j < len(r.Mines) {
				r.Mines[j].line = item.Line
			}
		}
	}
}

func (r *Registry) validate() error {
	var errs []error
	r.byCode = make(map[string]*Mine, len(r.Mines))
	for i := range r.Mines {
		m := &r.Mines[i]
		m.applyDefaults()
		if err := m.validate(); err != nil {
			errs = append(errs, fmt.Errorf("line %d: mine %q: %w", m.line, m.Code, err))
			continue
		}
		if prev, ok := r.byCode[m.Code]; ok {
			errs = append(errs, fmt.Errorf("line %d: mine %q: duplicate code, first defined on line %d",
				m.line, m.Code, prev.line))
			continue
		}
		r.byCode[m.Code] = m
	}
	return errors.Join(errs...)
}

func (m *Mine) applyDefaults() {
	if m.OvertimeUndergroundHours == 0 {
		m.OvertimeUndergroundHours = 12
	}
}

func (m *Mine) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !mineCodePattern.MatchString(m.Code) {
		add("code must be 12 digits (quote it in YAML so leading zeros survive)")
	}
	if strings.TrimSpace(m.Name) == "" {
		add("name is missing")
	}
	if !slices.Contains(kinds, m.Kind) {
		add("kind %q is invalid, expected one of %s", m.Kind, strings.Join(kinds, ", "))
	}
	if strings.TrimSpace(m.City) == "" {
		add("city is missing")
	}
	if strings.TrimSpace(m.County) == "" {
		add("county is missing")
	}
	if !slices.Contains(Statuses, m.Status) {
		add("status %q is invalid, expected one of %s", m.Status, strings.Join(Statuses, ", "))
	}
	if m.ApprovedCapacityTonnesPerYear < 0 {
		add("approved_capacity_tonnes_per_year must not be negative")
	}
	if m.ApprovedUndergroundPersons < 0 {
		add("approved_underground_persons must not be negative")
	}
	if m.MaintenanceCrewMax < 0 {
		add("maintenance_crew_max must not be negative")
	}
	if m.OvertimeUndergroundHours < 0 {
		add("overtime_underground_hours must not be negative")
	}
	for area, limit := range m.AreaLimits {
		if !areaCodePattern.MatchString(area) || !strings.HasPrefix(area, m.Code) {
			add("area_limits key %q must be a 16-digit area code starting with the mine code", area)
		}
		if limit < 0 {
			add("area_limits[%s] must not be negative", area)
		}
	}
	seen := map[string]bool{}
	for i, mc := range m.Machines {
		if !labelPattern.MatchString(mc.Terminal) {
			add("machines[%d].terminal %q must be letters, digits, '_', '.', ':' or '-'", i, mc.Terminal)
		}
		if seen[mc.Terminal] {
			add("machines[%d].terminal %q is mapped twice", i, mc.Terminal)
		}
		seen[mc.Terminal] = true
		if mc.Name == "" {
			add("machines[%d].name is missing", i)
		}
		if !slices.Contains(machineClasses, mc.Class) {
			add("machines[%d].class %q is invalid, expected one of %s",
				i, mc.Class, strings.Join(machineClasses, ", "))
		}
		if mc.IdleThresholdAmperes < 0 {
			add("machines[%d].idle_threshold_amperes must not be negative", i)
		}
	}
	return errors.Join(errs...)
}

// Mine returns the mine with the given code, or nil when it is not
// registered.
func (r *Registry) Mine(code string) *Mine {
	if r == nil {
		return nil
	}
	return r.byCode[code]
}

// Machine returns the machine mapped to a terminal, or nil.
func (m *Mine) Machine(terminal string) *Machine {
	if m == nil {
		return nil
	}
	for i := range m.Machines {
		if m.Machines[i].Terminal == terminal {
			return &m.Machines[i]
		}
	}
	return nil
}

// Producing reports whether the mine may produce.
func (m *Mine) Producing() bool { return m.Status == StatusProducing }
