// Package power polls smart power terminals over Modbus (TCP, RTU over
// TCP, RTU) with YAML register maps, and exports their currents,
// voltages, power and energy, and whether each machine runs.
package power

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/health"
	"github.com/minewatch/minewatch/exporters/registry"
)

// Source polls every gateway of a power config.
type Source struct {
	cfg      *Config
	registry *registry.Holder
	health   *health.Health
	logger   *slog.Logger
	now      func() time.Time

	gateways []*gatewayPoller

	requests     *prometheus.CounterVec
	requestCount atomic.Int64

	outputMu sync.Mutex
	output   map[string]float64 // mine code -> tonnes estimated from belt energy

	feedMu   sync.Mutex
	lastData map[feedKey]time.Time
}

type feedKey struct{ mineID, gateway string }

// New builds a source from a validated config (Validate loads the
// register maps). now may be nil for the wall clock.
func New(cfg *Config, reg *registry.Holder, h *health.Health, logger *slog.Logger,
	now func() time.Time) *Source {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := &Source{
		cfg: cfg, registry: reg, health: h, logger: logger, now: now,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_power_requests_total",
			Help: "Modbus read requests sent to a power terminal, failed ones included.",
		}, []string{"mine_id", "terminal"}),
		output:   map[string]float64{},
		lastData: map[feedKey]time.Time{},
	}
	for i := range cfg.Gateways {
		g := &cfg.Gateways[i]
		gp := &gatewayPoller{src: s, cfg: g, link: newLink(g)}
		for j := range g.Terminals {
			t := &g.Terminals[j]
			if t.regMap == nil {
				// Validate loads the maps; a config built in code may skip it.
				m, err := LoadMap(t.Map)
				if err != nil {
					logger.Error("power terminal skipped: its register map does not load",
						"mine_id", g.MineID, "gateway", g.Name, "terminal", t.Name, "err", err)
					continue
				}
				t.regMap = m
			}
			gp.terminals = append(gp.terminals, &terminal{
				cfg: t, gateway: g, batches: t.regMap.Plan(), values: map[*Register]sample{},
			})
		}
		if len(gp.terminals) > 0 {
			s.gateways = append(s.gateways, gp)
		}
		// A mine with a factor is exported from the start at 0 tonnes, so
		// that increase() counts its first tonnes.
		if _, ok := cfg.BeltTonnesPerKWh[g.MineID]; ok {
			s.output[g.MineID] = 0
		}
	}
	return s
}

// Register registers the source's metrics with reg.
func (s *Source) Register(reg prometheus.Registerer) error {
	if err := reg.Register(s.requests); err != nil {
		return err
	}
	return reg.Register(&collector{src: s})
}

// Run polls every gateway in its own goroutine until ctx is cancelled.
func (s *Source) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, g := range s.gateways {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.run(ctx)
		}()
	}
	s.logger.Info("power source started", "gateways", len(s.gateways))
	wg.Wait()
	return ctx.Err()
}

// PollOnce polls every terminal once, gateways in parallel, and returns
// the number of requests sent. Benchmarks and tests use it in place of
// Run.
func (s *Source) PollOnce() int64 {
	before := s.requestCount.Load()
	var wg sync.WaitGroup
	for _, g := range s.gateways {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.pollAll()
		}()
	}
	wg.Wait()
	return s.requestCount.Load() - before
}

// Close closes every gateway connection. Only for use with PollOnce;
// Run closes its connections itself.
func (s *Source) Close() {
	for _, g := range s.gateways {
		g.link.close()
	}
}

// Requests returns the number of requests sent since the source started.
func (s *Source) Requests() int64 { return s.requestCount.Load() }

func (s *Source) markData(g *Gateway, at time.Time) {
	s.feedMu.Lock()
	s.lastData[feedKey{g.MineID, g.Name}] = at
	s.feedMu.Unlock()
}
