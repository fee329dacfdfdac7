package app

import (
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
	// The live state is written as text on each scrape, not through a
	// client_golang collector: 10,000 tags are 60,000 series.
	env.AddExposer(positioningExposer(positioning.NewCollector(state, env.Registry, cfg, env.Now)))
	src := positioning.NewSource(cfg, state, env.Health, env.Logger, env.Now)
	return []Source{src}, nil
}

// positioningExposer returns the exposer of the positioning collector's
// text.
func positioningExposer(c *positioning.Collector) Exposer {
	return ExposerFunc(func() []TextFamily {
		texts := c.Expose()
		out := make([]TextFamily, len(texts))
		for i, t := range texts {
			out[i] = TextFamily(t)
		}
		return out
	})
}
