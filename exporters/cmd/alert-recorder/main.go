// Command alert-recorder receives Alertmanager webhook notifications on
// any path (/receivers/<name>), appends each as one JSON line to a file,
// and returns everything recorded on GET /alerts. The local stack uses it
// in place of the inspectors' real receivers.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"

	"github.com/minewatch/minewatch/exporters/alertrecorder"
)

func main() {
	a := kingpin.New("alert-recorder", "Records Alertmanager webhook notifications to a JSON-lines file.")
	listen := a.Flag("web.listen-address", "Address to listen on.").Default("127.0.0.1:9097").String()
	output := a.Flag("output", "File that receives one JSON line per notification; existing lines are kept "+
		"and served too.").Default("alerts.jsonl").String()
	logConfig := &promslog.Config{}
	flag.AddFlags(a, logConfig)
	a.HelpFlag.Short('h')
	kingpin.MustParse(a.Parse(os.Args[1:]))
	logger := promslog.New(logConfig)

	if err := run(*listen, *output, logger); err != nil {
		logger.Error("alert-recorder failed", "err", err)
		os.Exit(1)
	}
}

func run(listen, output string, logger *slog.Logger) error {
	reg := prometheus.NewRegistry()
	rec, err := alertrecorder.Open(output, reg, logger)
	if err != nil {
		return err
	}
	defer rec.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", rec.Handler())
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("alert-recorder started", "address", listen, "output", output,
		"records", len(rec.Records()))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	logger.Info("alert-recorder stopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
