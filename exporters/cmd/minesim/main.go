// Command minesim plays simulated mines from a scenario file: national
// networking files, Modbus power terminals, MQTT positioning tags and
// cameras, all driven by the same timeline.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"

	"github.com/minewatch/minewatch/exporters/sim"
)

// channel is one simulated data channel. Each channel file adds itself
// from init with its flags; enabled reports whether its flags ask for it.
type channel struct {
	name    string
	flags   func(a *kingpin.Application)
	enabled func() bool
	run     func(ctx context.Context, s *sim.Scenario, logger *slog.Logger) error
}

var channels []channel

func addChannel(c channel) { channels = append(channels, c) }

func main() {
	a := kingpin.New("minesim", "Plays simulated mines from a scenario file.")
	scenarioFile := a.Flag("scenario", "Path of the scenario file.").Required().String()
	for _, c := range channels {
		c.flags(a)
	}
	logConfig := &promslog.Config{}
	flag.AddFlags(a, logConfig)
	a.HelpFlag.Short('h')
	kingpin.MustParse(a.Parse(os.Args[1:]))
	logger := promslog.New(logConfig)

	s, err := sim.Load(*scenarioFile)
	if err != nil {
		logger.Error("cannot load scenario", "err", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var wg sync.WaitGroup
	errc := make(chan error, len(channels))
	started := 0
	for _, c := range channels {
		if !c.enabled() {
			continue
		}
		started++
		wg.Add(1)
		go func() {
			defer wg.Done()
			logger.Info("channel started", "channel", c.name)
			if err := c.run(ctx, s, logger.With("channel", c.name)); err != nil && !errors.Is(err, context.Canceled) {
				errc <- err
				logger.Error("channel stopped", "channel", c.name, "err", err)
				stop()
			}
		}()
	}
	if started == 0 {
		logger.Error("no channel enabled: pass at least one channel flag, see --help")
		os.Exit(2)
	}
	wg.Wait()
	close(errc)
	if len(errc) > 0 {
		os.Exit(1)
	}
}
