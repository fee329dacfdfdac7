package app

import (
	"github.com/minewatch/minewatch/exporters/national"
	"github.com/minewatch/minewatch/exporters/vmimport"
)

func init() { register("national", buildNational) }

// buildNational starts the national file inbox when the config has a
// national section. Without victoriametrics.url the files are still
// ingested and their current values served on /metrics.
func buildNational(env *Env) ([]Source, error) {
	cfg := env.Config.National
	if cfg == nil {
		return nil, nil
	}
	deps := national.Deps{
		Registry: env.Registry,
		Health:   env.Health,
		Metrics:  env.Metrics,
		Logger:   env.Logger,
		Now:      env.Now,
	}
	if vm := env.Config.VictoriaMetrics; vm.URL != "" {
		deps.VM = vmimport.New(vmimport.Config{
			URL:      vm.URL,
			Timeout:  vm.Timeout,
			Username: vm.Username,
			Password: vm.Password,
		})
	}
	src, err := national.New(*cfg, deps)
	if err != nil {
		return nil, err
	}
	return []Source{src}, nil
}
