package power

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/minemetrics"
	"github.com/minewatch/minewatch/exporters/registry"
)

var (
	phaseLabels = []string{"mine_id", "terminal", "machine", "phase"}
	plainLabels = []string{"mine_id", "terminal", "machine"}

	quantityDescs = map[string]*prometheus.Desc{
		QuantityVoltage: prometheus.NewDesc("mine_power_voltage_volts",
			"Voltage of a phase (L1) or between two lines (L1-L2) at a power terminal.", phaseLabels, nil),
		QuantityCurrent: prometheus.NewDesc("mine_power_current_amperes",
			"Current of a phase at a power terminal.", phaseLabels, nil),
		QuantityPhasePower: prometheus.NewDesc("mine_power_phase_active_watts",
			"Active power of one phase at a power terminal.", phaseLabels, nil),
		QuantityActivePower: prometheus.NewDesc("mine_power_active_watts",
			"Total active power at a power terminal.", plainLabels, nil),
		QuantityPowerFactor: prometheus.NewDesc("mine_power_factor_ratio",
			"Total power factor at a power terminal.", plainLabels, nil),
		QuantityFrequency: prometheus.NewDesc("mine_power_frequency_hertz",
			"Supply frequency at a power terminal.", plainLabels, nil),
		QuantityActiveEnergy: prometheus.NewDesc("mine_power_active_energy_joules_total",
			"Active energy drawn through a power terminal, as counted by the meter.", plainLabels, nil),
		QuantityBreakerClosed: prometheus.NewDesc("mine_power_breaker_closed",
			"1 when the terminal's breaker contact reports closed.", plainLabels, nil),
	}
	valueDesc = prometheus.NewDesc("mine_power_register_value",
		"A terminal value without a metric of its own, named by its register map, in the map's unit.",
		[]string{"mine_id", "terminal", "machine", "register"}, nil)
	runningDesc = prometheus.NewDesc("mine_machine_running",
		"1 when the machine draws more than its idle threshold on any phase, 0 otherwise.",
		[]string{"mine_id", "machine", "terminal"}, nil)
	outputDesc = minemetrics.OutputTonnes.Desc()
	feedDesc   = minemetrics.FeedLastDataTimestamp.Desc()
)

// collector serves the latest fresh values; a value older than its
// terminal's stale_after is left out, so a silent terminal's series end.
type collector struct{ src *Source }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range quantityDescs {
		ch <- d
	}
	ch <- valueDesc
	ch <- runningDesc
	ch <- outputDesc
	ch <- feedDesc
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src
	reg := s.registry.Load()
	now := s.now()
	for _, g := range s.gateways {
		mine := reg.Mine(g.cfg.MineID)
		for _, t := range g.terminals {
			collectTerminal(ch, t, mine, now)
		}
	}

	s.outputMu.Lock()
	for mineID, tonnes := range s.output {
		ch <- prometheus.MustNewConstMetric(outputDesc, prometheus.CounterValue, tonnes, mineID, "belt_energy")
	}
	s.outputMu.Unlock()

	s.feedMu.Lock()
	for k, at := range s.lastData {
		ch <- prometheus.MustNewConstMetric(feedDesc, prometheus.GaugeValue,
			float64(at.UnixNano())/1e9, k.mineID, "power:"+k.gateway)
	}
	s.feedMu.Unlock()
}

func collectTerminal(ch chan<- prometheus.Metric, t *terminal, mine *registry.Mine, now time.Time) {
	mc := mine.Machine(t.cfg.Name)
	machine := t.cfg.Machine
	threshold := t.cfg.IdleThresholdAmperes
	if mc != nil {
		machine = mc.Name
		threshold = &mc.IdleThresholdAmperes
	}
	if machine == "" {
		machine = t.cfg.Name
	}
	mineID := t.gateway.MineID

	maxCurrent := math.Inf(-1)
	t.mu.Lock()
	defer t.mu.Unlock()
	for r, smp := range t.values {
		if now.Sub(smp.at) > t.cfg.StaleAfter {
			continue
		}
		if r.Quantity == QuantityValue {
			ch <- prometheus.MustNewConstMetric(valueDesc, prometheus.GaugeValue, smp.value,
				mineID, t.cfg.Name, machine, r.Name)
			continue
		}
		desc := quantityDescs[r.Quantity]
		valueType := prometheus.GaugeValue
		if r.Quantity == QuantityActiveEnergy {
			valueType = prometheus.CounterValue
		}
		if r.Phase != "" {
			ch <- prometheus.MustNewConstMetric(desc, valueType, smp.value, mineID, t.cfg.Name, machine, r.Phase)
		} else {
			ch <- prometheus.MustNewConstMetric(desc, valueType, smp.value, mineID, t.cfg.Name, machine)
		}
		if r.Quantity == QuantityCurrent && r.Phase != "N" {
			maxCurrent = math.Max(maxCurrent, smp.value)
		}
	}
	if threshold != nil && !math.IsInf(maxCurrent, -1) {
		running := 0.0
		if maxCurrent > *threshold {
			running = 1
		}
		ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, running, mineID, machine, t.cfg.Name)
	}
}
