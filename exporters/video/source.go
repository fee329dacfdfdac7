package video

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/health"
)

// Runner is one goroutine of the video source; it matches app.Source.
type Runner interface {
	Run(ctx context.Context) error
}

// Source is the video source: the mapping engine, the webhook handler
// and the goroutines for Frigate brokers and RTSP cameras.
type Source struct {
	Engine  *Engine
	Webhook *WebhookHandler
	Runners []Runner
}

// New builds the video source from cfg. The caller mounts Webhook on its
// HTTP mux and runs every Runner.
func New(cfg *Config, reg prometheus.Registerer, h *health.Health, logger *slog.Logger,
	now func() time.Time) *Source {
	engine := NewEngine(cfg, reg, now)
	s := &Source{
		Engine:  engine,
		Webhook: NewWebhookHandler(cfg, engine, h, reg, logger),
		Runners: []Runner{&sweeper{engine: engine}},
	}

	if len(cfg.Frigate) > 0 {
		available := prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mine_video_frigate_available",
			Help: "1 while Frigate reports online on its availability topic, 0 after offline.",
		}, []string{"mine_id", "topic_prefix"})
		reg.MustRegister(available)
		for _, f := range cfg.Frigate {
			s.Runners = append(s.Runners, newFrigateClient(f, engine, h, available, logger, now))
		}
	}

	var metrics *cameraMetrics
	for _, cam := range cfg.Cameras {
		if cam.RTSPURL == "" {
			continue
		}
		if metrics == nil {
			metrics = newCameraMetrics(reg)
		}
		s.Runners = append(s.Runners, &cameraProbe{cam: cam, engine: engine, health: h,
			metrics: metrics, now: now,
			logger: logger.With("mine_id", cam.MineID, "camera", cam.ID, "url", redactURL(cam.RTSPURL))})
	}
	return s
}

// sweeper ends timed-out state events once a second.
type sweeper struct{ engine *Engine }

func (s *sweeper) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.engine.Sweep()
		}
	}
}

// metrics returns the camera metrics shared by the probes, or nil.
func (s *Source) metrics() *cameraMetrics {
	for _, r := range s.Runners {
		if p, ok := r.(*cameraProbe); ok {
			return p.metrics
		}
	}
	return nil
}
