package app

import "github.com/minewatch/minewatch/exporters/video"

func init() {
	register("video", buildVideo)
}

// buildVideo mounts the video webhooks under /api/v1/video/ and returns
// the Frigate clients, the RTSP probes and the state-event sweeper.
func buildVideo(env *Env) ([]Source, error) {
	cfg := env.Config.Video
	if cfg == nil {
		return nil, nil
	}
	s := video.New(cfg, env.Metrics, env.Health, env.Logger, env.Now)
	s.Webhook.Register(env.Mux)
	sources := make([]Source, 0, len(s.Runners))
	for _, r := range s.Runners {
		sources = append(sources, r)
	}
	return sources, nil
}
