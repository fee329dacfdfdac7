package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/alecthomas/kingpin/v2"

	"github.com/minewatch/minewatch/exporters/sim"
)

// Scenario files give gateway ports from scenarioBasePort up to
// scenarioBasePort+79; --power.listen-base moves that range.
const scenarioBasePort = 15020

var (
	powerEnabled    bool
	powerListenBase string
)

func init() {
	addChannel(channel{
		name: "power",
		flags: func(a *kingpin.Application) {
			a.Flag("power", "Serve the simulated Modbus power terminals of the scenario's power sections, one listening port per gateway.").
				BoolVar(&powerEnabled)
			a.Flag("power.listen-base", "host:port that a scenario gateway port of 15020 moves to; ports 15020-15099 shift with it. Empty: listen where the scenario says.").
				StringVar(&powerListenBase)
		},
		enabled: func() bool { return powerEnabled },
		run:     runPower,
	})
}

func runPower(ctx context.Context, s *sim.Scenario, logger *slog.Logger) error {
	gateways, err := sim.StartPower(s, shiftListen)
	if err != nil {
		return err
	}
	for _, g := range gateways {
		logger.Info("power gateway listening", "gateway", g.Name(), "address", g.Addr())
	}
	<-ctx.Done()
	for _, g := range gateways {
		_ = g.Close()
	}
	return ctx.Err()
}

// shiftListen moves a scenario listen address by --power.listen-base.
func shiftListen(addr string) (string, error) {
	if powerListenBase == "" {
		return addr, nil
	}
	baseHost, basePort, err := splitPort(powerListenBase)
	if err != nil {
		return "", fmt.Errorf("--power.listen-base: %w", err)
	}
	_, port, err := splitPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen %q: %w", addr, err)
	}
	if port < scenarioBasePort || port > scenarioBasePort+79 {
		return addr, nil
	}
	return net.JoinHostPort(baseHost, strconv.Itoa(basePort+port-scenarioBasePort)), nil
}

func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q is not a number", p)
	}
	return host, port, nil
}
