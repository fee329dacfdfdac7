package main

import (
	"context"
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/minewatch/minewatch/exporters/sim"
)

var powerEnabled bool

func init() {
	addChannel(channel{
		name: "power",
		flags: func(a *kingpin.Application) {
			a.Flag("power", "Serve the simulated Modbus power terminals of the scenario's power sections, one listening port per gateway.").
				BoolVar(&powerEnabled)
		},
		enabled: func() bool { return powerEnabled },
		run:     runPower,
	})
}

func runPower(ctx context.Context, s *sim.Scenario, logger *slog.Logger) error {
	gateways, err := sim.StartPower(s)
	if err != nil {
		return err
	}
	for _, g := range gateways {
		logger.Info("power gateway listening", "address", g.Addr())
	}
	<-ctx.Done()
	for _, g := range gateways {
		_ = g.Close()
	}
	return ctx.Err()
}
