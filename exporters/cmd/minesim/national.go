package main

import (
	"context"
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/minewatch/minewatch/exporters/sim"
)

// The national channel writes national networking files into an
// exporter's inbox, replayed from each mine's samples with the times
// shifted to the present.
func init() {
	opts := sim.NationalOptions{UploadDuration: -1}
	addChannel(channel{
		name: "national",
		flags: func(a *kingpin.Application) {
			a.Flag("national.inbox", "Inbox folder of mine-exporter's national source; each mine writes into "+
				"its own sub-folder. Enables the national channel.").StringVar(&opts.Inbox)
			a.Flag("national.interval", "Period of the real-time files (RYSS, JZSS, CDSS, alarm files) of every "+
				"mine, replacing the scenario's interval, for example 20s for tests. Default: the scenario's, 5m.").
				DurationVar(&opts.Interval)
			a.Flag("national.static-interval", "Period of RYQY, RYJZ and RYXX after the first upload at the "+
				"start, replacing the scenario's. Default: the scenario's, 1h.").DurationVar(&opts.StaticInterval)
			a.Flag("national.upload-duration", "Time one file takes to grow from empty to its closing ||, "+
				"replacing the scenario's. Default: the scenario's, 1s.").DurationVar(&opts.UploadDuration)
			a.Flag("national.backfill", "History written at the start: files with data times up to this far "+
				"in the past, so rules that need 10 minutes of data fire at once. 0 writes none.").
				Default("0s").DurationVar(&opts.Backfill)
		},
		enabled: func() bool { return opts.Inbox != "" },
		run: func(ctx context.Context, s *sim.Scenario, logger *slog.Logger) error {
			return sim.RunNational(ctx, s, opts, logger)
		},
	})
}
