// Command mine-exporter reads a mine's power terminals, positioning
// system, cameras and national networking files, and serves them as
// Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/minewatch/minewatch/exporters/app"
	"github.com/minewatch/minewatch/exporters/config"
	"github.com/minewatch/minewatch/exporters/national"
)

type flags struct {
	configFile    string
	checkConfig   bool
	listenAddress string
	webConfigFile string
	registryFile  string
	nationalInbox string
}

func main() {
	var f flags
	a := kingpin.New("mine-exporter", "Exports mine safety data (power, positioning, video, national files) as Prometheus metrics.")
	a.Flag("config", "Path of mine-exporter.yml. Without it only the flags below configure the exporter.").StringVar(&f.configFile)
	a.Flag("check-config", "Validate the config and the registry it names, then exit: 0 when valid.").BoolVar(&f.checkConfig)
	a.Flag("web.listen-address", "Address to serve /metrics on; overrides listen_address in the config. Default "+config.DefaultListenAddress+".").StringVar(&f.listenAddress)
	a.Flag("web.config.file", "Path of an exporter-toolkit web config that enables TLS and basic auth.").StringVar(&f.webConfigFile)
	a.Flag("registry", "Path of the mine registry (mines.yaml); overrides registry in the config.").StringVar(&f.registryFile)
	a.Flag("national.inbox", "Inbox folder of national networking files, one sub-folder per mine; enables the national source and overrides national.inbox in the config.").StringVar(&f.nationalInbox)
	logConfig := &promslog.Config{}
	flag.AddFlags(a, logConfig)
	a.Version(version.Print("mine-exporter"))
	a.HelpFlag.Short('h')
	kingpin.MustParse(a.Parse(os.Args[1:]))
	logger := promslog.New(logConfig)

	if err := run(f, logger); err != nil {
		logger.Error("mine-exporter failed", "err", err)
		os.Exit(1)
	}
}

// loadConfig reads the config file, if any, and applies the flag
// overrides.
func loadConfig(f flags) (*config.Config, error) {
	var cfg *config.Config
	var err error
	if f.configFile != "" {
		cfg, err = config.Load(f.configFile)
	} else {
		cfg, err = config.Parse(nil)
	}
	if err != nil {
		return nil, err
	}
	if f.listenAddress != "" {
		cfg.ListenAddress = f.listenAddress
	}
	if f.registryFile != "" {
		cfg.Registry = f.registryFile
	}
	if f.nationalInbox != "" {
		if cfg.National == nil {
			cfg.National = &national.Config{}
		}
		cfg.National.Inbox = f.nationalInbox
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func run(f flags, logger *slog.Logger) error {
	cfg, err := loadConfig(f)
	if err != nil {
		return err
	}
	gen, sources, err := app.Build(cfg, app.Options{Logger: logger})
	if err != nil {
		return err
	}
	if f.checkConfig {
		fmt.Println("config is valid")
		return nil
	}

	s := &server{logger: logger, flags: f}
	s.swap(gen, sources)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := s.reload(); err != nil {
				logger.Error("reload failed, keeping the running config", "err", err)
			}
		}
	}()

	listen := []string{cfg.ListenAddress}
	systemd := false
	webFlags := &web.FlagConfig{
		WebListenAddresses: &listen,
		WebSystemdSocket:   &systemd,
		WebConfigFile:      &f.webConfigFile,
	}
	srv := &http.Server{Handler: s.routes()}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, webFlags, logger) }()
	logger.Info("mine-exporter started", "address", cfg.ListenAddress, "version", version.Version)

	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.current().Stop()
			return err
		}
	}
	logger.Info("mine-exporter stopping")
	_ = srv.Shutdown(context.Background())
	s.current().Stop()
	return nil
}

// server owns the running generation and swaps it on reload.
type server struct {
	logger *slog.Logger
	flags  flags

	// reloadMu lets one reload (POST /-/reload or SIGHUP) run at a time.
	// Without it, two overlapping swaps can stop a generation before it
	// has started, which then runs forever beside its successor (two
	// national watchers importing each file twice).
	reloadMu sync.Mutex

	mu  sync.RWMutex
	gen *app.Generation
}

func (s *server) current() *app.Generation {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

func (s *server) swap(gen *app.Generation, sources []app.Source) {
	s.mu.Lock()
	old := s.gen
	s.gen = gen
	s.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	gen.Start(sources, s.logger)
}

// reload reads the config and registry again; on any error the running
// generation stays.
func (s *server) reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cfg, err := loadConfig(s.flags)
	if err != nil {
		return err
	}
	gen, sources, err := app.Build(cfg, app.Options{Logger: s.logger})
	if err != nil {
		return err
	}
	s.swap(gen, sources)
	s.logger.Info("config reloaded", "config", s.flags.configFile)
	return nil
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		// A collector that fails or collides with another source's series
		// does not take the registry and health metrics off /metrics with
		// it. The handler logs those errors.
		s.current().MetricsHandler(s.logger).ServeHTTP(w, r)
	})
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			http.Error(w, "use POST or PUT to reload", http.StatusMethodNotAllowed)
			return
		}
		if err := s.reload(); err != nil {
			s.logger.Error("reload failed, keeping the running config", "err", err)
			http.Error(w, fmt.Sprintf("reload failed: %v", err), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "reloaded")
	})
	// Routes of sources that receive data, such as video webhooks.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.current().Mux.ServeHTTP(w, r)
	})
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "Minewatch mine-exporter",
		Description: "Mine safety data as Prometheus metrics",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
		},
	})
	if err != nil {
		s.logger.Error("cannot build landing page", "err", err)
	} else {
		mux.Handle("/", landing)
	}
	return mux
}
