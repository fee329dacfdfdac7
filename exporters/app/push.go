package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/VictoriaMetrics/metrics"

	"github.com/minewatch/minewatch/exporters/config"
)

// pusher sends everything on /metrics to VictoriaMetrics at a fixed
// interval, for sites where no vmagent scrapes the exporter.
type pusher struct {
	cfg        config.VictoriaMetrics
	exposition *exposition
	logger     *slog.Logger
}

func newPusher(cfg config.VictoriaMetrics, e *exposition, logger *slog.Logger) *pusher {
	return &pusher{cfg: cfg, exposition: e, logger: logger}
}

func (p *pusher) Run(ctx context.Context) error {
	opts := &metrics.PushOptions{}
	if p.cfg.Username != "" {
		opts.Headers = []string{"Authorization: Basic " + basicAuth(p.cfg.Username, p.cfg.Password)}
	}
	err := metrics.InitPushExtWithOptions(ctx, p.cfg.PushURL, p.cfg.PushInterval, p.writeMetrics, opts)
	if err != nil {
		return fmt.Errorf("cannot start push to %s: %w", p.cfg.PushURL, err)
	}
	p.logger.Info("pushing metrics", "url", p.cfg.PushURL, "interval", p.cfg.PushInterval)
	<-ctx.Done()
	return nil
}

// writeMetrics writes what /metrics serves, in the text format without
// timestamps, which the push library expects.
func (p *pusher) writeMetrics(w io.Writer) {
	var buf bytes.Buffer
	if err := p.exposition.write(&buf); err != nil {
		p.logger.Warn("gathering metrics for push returned errors", "err", err)
	}
	_, _ = w.Write(buf.Bytes())
}
