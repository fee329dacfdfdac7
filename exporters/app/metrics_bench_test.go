package app

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/config"
	"github.com/minewatch/minewatch/internal/testenv"
)

// liveExporter is a running generation with the national source reading
// the sample files of both mines and the positioning source subscribed to
// a real Mosquitto, served on a loopback HTTP server.
type liveExporter struct {
	gen    *Generation
	srv    *httptest.Server
	broker string
}

// startLiveExporter builds and starts a generation with the national and
// positioning sources, and waits until the national sample files are on
// /metrics.
func startLiveExporter(tb testing.TB, tagExpiry time.Duration) *liveExporter {
	tb.Helper()
	// Unbounded broker queues: the default of 1,000 queued messages per
	// client drops part of a burst of 10,000 QoS 1 messages.
	broker := testenv.Mosquitto(tb, "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n")
	root := testenv.RepoRoot()
	inbox := tb.TempDir()
	samples := filepath.Join(root, "deploy/local/samples/national")
	mines, err := os.ReadDir(samples)
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range mines {
		files, err := os.ReadDir(filepath.Join(samples, m.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(inbox, m.Name()), 0o755); err != nil {
			tb.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(samples, m.Name(), f.Name()))
			if err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(inbox, m.Name(), f.Name()), data, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}

	yml := fmt.Sprintf(`
registry: %s/deploy/local/mines.yaml
national:
  inbox: %s
  future_action: flag
positioning:
  broker: tcp://%s
  client_id: bench-exporter
  clean_session: true
  topics:
    - pattern: mine/{mine_id}/uwb/tag/{tag_id}
      fields: {tag_id: tagId, kind: type, x: x, y: y, z: z, area: areaCode, time: ts, battery: battery, sos: sos}
  tag_expiry: %s
  plans_dir: %s/deploy/local/plans
  equipment:
    - {mine_id: "320382000101", tag: SHEARER-1, x: 1450, y: 575, z: -431}
`, root, inbox, broker.Addr, tagExpiry, root)
	cfg, err := config.Parse([]byte(yml))
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	gen, sources, err := Build(cfg, Options{Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	gen.Start(sources, logger)
	tb.Cleanup(gen.Stop)
	mux := http.NewServeMux()
	mux.Handle("/metrics", gen.MetricsHandler(logger))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	ex := &liveExporter{gen: gen, srv: srv, broker: broker.Addr}
	ex.waitFor(tb, `mine_person_position_meters{axis="x",card=`, `source="station"}`)
	return ex
}

// scrape fetches /metrics and returns the body.
func (ex *liveExporter) scrape(tb testing.TB) string {
	tb.Helper()
	resp, err := http.Get(ex.srv.URL + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	return string(body)
}

// waitFor polls /metrics until a line starts with prefix and contains
// part.
func (ex *liveExporter) waitFor(tb testing.TB, prefix, part string) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for _, line := range strings.Split(ex.scrape(tb), "\n") {
			if strings.HasPrefix(line, prefix) && strings.Contains(line, part) {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for a /metrics line %s...%s", prefix, part)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// benchPayload is a sample-format message of tag i: every 50th tag is a
// vehicle, the others persons spread over the working faces of mine
// 320382000101.
func benchPayload(i int) string {
	kind := "person"
	if i%50 == 0 {
		kind = "vehicle"
	}
	x := 1040 + float64((i*7)%1600)
	y := 500 + float64(i%300)
	return fmt.Sprintf(`{"tagId":"T%05d","type":"%s","x":%.2f,"y":%.2f,"z":-430.0,"ts":"2026-11-20T22:15:03.120+08:00","battery":%d,"sos":%t}`,
		i, kind, x, y, 5+i%95, i%997 == 0)
}

// publishTags publishes one QoS 1 message for each of n tags and waits
// until /metrics counts them all.
func (ex *liveExporter) publishTags(tb testing.TB, n int) {
	tb.Helper()
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + ex.broker).SetClientID("bench-tags")
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		tb.Fatalf("publisher cannot connect to %s: %v", ex.broker, tok.Error())
	}
	defer c.Disconnect(100)
	tokens := make([]mqtt.Token, 0, n)
	vehicles := 0
	for i := range n {
		if i%50 == 0 {
			vehicles++
		}
		tokens = append(tokens, c.Publish(fmt.Sprintf("mine/320382000101/uwb/tag/T%05d", i), 1, false, benchPayload(i)))
	}
	for _, tok := range tokens {
		if !tok.WaitTimeout(time.Minute) || tok.Error() != nil {
			tb.Fatalf("publish: %v", tok.Error())
		}
	}
	ex.waitFor(tb, `mine_positioning_tags{kind="person",mine_id="320382000101"}`, fmt.Sprintf(" %d", n-vehicles))
	ex.waitFor(tb, `mine_positioning_tags{kind="vehicle",mine_id="320382000101"}`, fmt.Sprintf(" %d", vehicles))
}

// BenchmarkMetricsHTTP10kTags scrapes /metrics over loopback HTTP from a
// generation with the national sample files and 10,000 live UWB tags, as
// Prometheus does (gzip) and uncompressed:
// go test ./exporters/app/ -run '^$' -bench MetricsHTTP -benchtime 100x
func BenchmarkMetricsHTTP10kTags(b *testing.B) {
	ex := startLiveExporter(b, time.Hour)
	ex.publishTags(b, 10000)
	body := ex.scrape(b)
	series := 0
	for _, line := range strings.Split(body, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			series++
		}
	}

	for _, c := range []struct {
		name string
		gzip bool
	}{{"gzip", true}, {"identity", false}} {
		b.Run(c.name, func(b *testing.B) {
			// With compression enabled, the transport asks for gzip and
			// decompresses the body, as a scraper does.
			client := &http.Client{Transport: &http.Transport{DisableCompression: !c.gzip}}
			defer client.CloseIdleConnections()
			for b.Loop() {
				resp, err := client.Get(ex.srv.URL + "/metrics")
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if n < int64(len(body))*9/10 {
					b.Fatalf("read %d bytes, a scrape before had %d", n, len(body))
				}
			}
			b.ReportMetric(float64(series), "series")
			b.ReportMetric(float64(len(body)), "bytes")
		})
	}
}

// BenchmarkMergedGatherer gathers two registries of 2,000 series each in
// one shared family, plus 50 families of 20 series from one source: the
// size of an exporter without a large positioning source.
func BenchmarkMergedGatherer(b *testing.B) {
	var gatherers []prometheus.Gatherer
	for s, source := range []string{"station", "uwb"} {
		reg := prometheus.NewRegistry()
		shared := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mine_person_sos", Help: "SOS"},
			[]string{"mine_id", "card", "source"})
		reg.MustRegister(shared)
		for i := range 2000 {
			shared.WithLabelValues("320382000101", fmt.Sprintf("C%04d", i), source).Set(float64(i))
		}
		for f := range 25 {
			own := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: fmt.Sprintf("mine_source%d_family%d", s, f), Help: "x"},
				[]string{"mine_id", "terminal"})
			reg.MustRegister(own)
			for i := range 20 {
				own.WithLabelValues("320382000101", fmt.Sprintf("t%d", i)).Set(1)
			}
		}
		gatherers = append(gatherers, reg)
	}
	g := mergedGatherer{gatherers: gatherers}
	for b.Loop() {
		if _, err := g.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
