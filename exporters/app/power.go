package app

import "github.com/minewatch/minewatch/exporters/power"

func init() { register("power", buildPower) }

// buildPower starts the Modbus poller of the power section, if any.
func buildPower(env *Env) ([]Source, error) {
	cfg := env.Config.Power
	if cfg == nil || len(cfg.Gateways) == 0 {
		return nil, nil
	}
	src := power.New(cfg, env.Registry, env.Health, env.Logger.With("source", "power"), env.Now)
	if err := src.Register(env.Metrics); err != nil {
		return nil, err
	}
	return []Source{src}, nil
}
