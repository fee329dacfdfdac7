// Package app assembles the sources named in a config into one running
// exporter generation: its own metrics registry, HTTP routes and
// goroutines. A reload builds a new generation and then stops the old one,
// so a bad config never replaces a good one.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/minewatch/minewatch/exporters/config"
	"github.com/minewatch/minewatch/exporters/health"
	"github.com/minewatch/minewatch/exporters/registry"
)

// Source is one running data source. Run blocks until ctx is cancelled
// and returns nil then; an error return means the source gave up.
type Source interface {
	Run(ctx context.Context) error
}

// Env holds the dependencies a source builder receives.
type Env struct {
	Config   *config.Config
	Registry *registry.Holder
	Health   *health.Health
	// Metrics is the generation's registry; sources register their
	// collectors here.
	Metrics prometheus.Registerer
	// Mux serves HTTP routes of sources that receive data, such as video
	// webhooks, under the exporter's listen address.
	Mux    *http.ServeMux
	Logger *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time

	exposers *[]Exposer
}

// AddExposer adds a source's text exposer to /metrics.
func (e *Env) AddExposer(x Exposer) {
	*e.exposers = append(*e.exposers, x)
}

// Builder builds the sources for one config section. It returns no
// sources when its section is absent.
type Builder func(env *Env) ([]Source, error)

type namedBuilder struct {
	name  string
	build Builder
}

var builders []namedBuilder

// register adds a source builder; each source file calls it from init.
func register(name string, b Builder) {
	builders = append(builders, namedBuilder{name, b})
}

// Generation is one running set of sources.
type Generation struct {
	// Gatherer gathers every family that /metrics serves. MetricsHandler
	// is much faster for large sources, whose text it does not parse.
	Gatherer prometheus.Gatherer
	Mux      *http.ServeMux

	exposition *exposition

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Options are the inputs of a generation that do not come from the config.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// Build creates a generation from cfg without starting it. The registry
// file named in cfg is loaded here, so that a reload with a broken
// registry fails before anything stops.
func Build(cfg *config.Config, opts Options) (*Generation, []Source, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}

	var reg *registry.Registry
	if cfg.Registry != "" {
		var err error
		reg, err = registry.Load(cfg.Registry)
		if err != nil {
			return nil, nil, err
		}
	}
	holder := registry.NewHolder(reg)

	metrics := prometheus.NewRegistry()
	metrics.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		holder,
	)
	env := &Env{
		Config:   cfg,
		Registry: holder,
		Health:   health.New(metrics),
		Metrics:  metrics,
		Mux:      http.NewServeMux(),
		Logger:   opts.Logger,
		Now:      opts.Now,
		exposers: &[]Exposer{},
	}

	// Each source registers into a registry of its own, so that two
	// sources exporting one metric family cannot fail each other's
	// registration. mergedGatherer joins them at scrape time.
	gatherer := mergedGatherer{gatherers: []prometheus.Gatherer{metrics}}
	var sources []Source
	for _, b := range builders {
		sourceMetrics := prometheus.NewRegistry()
		sourceEnv := *env
		sourceEnv.Metrics = sourceMetrics
		s, err := b.build(&sourceEnv)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", b.name, err)
		}
		sources = append(sources, s...)
		gatherer.gatherers = append(gatherer.gatherers, sourceMetrics)
	}
	exp := &exposition{gatherer: gatherer, exposers: *env.exposers}
	full := mergedGatherer{gatherers: slices.Clone(gatherer.gatherers)}
	for _, x := range exp.exposers {
		full.gatherers = append(full.gatherers, exposerGatherer{x})
	}
	if cfg.VictoriaMetrics.PushURL != "" {
		sources = append(sources, newPusher(cfg.VictoriaMetrics, exp, opts.Logger))
	}
	return &Generation{Gatherer: full, Mux: env.Mux, exposition: exp}, sources, nil
}

// Start runs the sources until Stop. A source that returns an error is
// logged; the others go on.
func (g *Generation) Start(sources []Source, logger *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	for _, s := range sources {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("source stopped", "source", fmt.Sprintf("%T", s), "err", err)
			}
		}()
	}
}

// Stop cancels the sources and waits for them to return.
func (g *Generation) Stop() {
	if g.cancel != nil {
		g.cancel()
	}
	g.wg.Wait()
}
