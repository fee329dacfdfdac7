package app

import (
	"fmt"

	"github.com/minewatch/minewatch/exporters/positioning"
)

func init() { register("positioning", buildPositioning) }

// buildPositioning builds the MQTT positioning source and registers the
// collector of its live state. Plans are loaded for every registered mine
// and for every mine named in the section.
func buildPositioning(env *Env) ([]Source, error) {
	cfg := env.Config.Positioning
	if cfg == nil {
		return nil, nil
	}
	var mineIDs []string
	for _, m := range env.Registry.Load().Mines {
		mineIDs = append(mineIDs, m.Code)
	}
	for _, t := range cfg.Topics {
		if t.MineID != "" {
			mineIDs = append(mineIDs, t.MineID)
		}
	}
	plans, err := positioning.LoadPlans(cfg.PlansDir, mineIDs)
	if err != nil {
		return nil, err
	}
	state := positioning.NewState(plans, cfg.MaxTags, cfg.TagExpiry)
	if err := env.Metrics.Register(positioning.NewCollector(state, env.Registry, cfg, env.Now)); err != nil {
		return nil, fmt.Errorf("cannot register positioning metrics: %w", err)
	}
	src := positioning.NewSource(cfg, state, env.Health, env.Logger, env.Now)
	return []Source{src}, nil
}
