package positioning

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/minewatch/minewatch/exporters/health"
	"github.com/minewatch/minewatch/exporters/registry"
	"github.com/minewatch/minewatch/internal/testenv"
)

// harness is a running source with its own metrics registry.
type harness struct {
	cfg    *Config
	state  *State
	src    *Source
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

// samplePlans loads the plans of the sample mines from deploy/local/plans.
func samplePlans(t testing.TB) map[string]*Plan {
	t.Helper()
	plans, err := LoadPlans(testenv.RepoRoot()+"/deploy/local/plans", []string{"320382000101", "320382000202"})
	if err != nil {
		t.Fatal(err)
	}
	return plans
}

// sampleTopic is the topic pattern of the sample UWB messages.
func sampleTopic() Topic {
	return Topic{Pattern: "mine/{mine_id}/uwb/tag/{tag_id}"}
}

// baseConfig returns a validated config for broker, with the sample topic
// unless topics are given.
func baseConfig(t testing.TB, broker string, topics ...Topic) *Config {
	t.Helper()
	if len(topics) == 0 {
		topics = []Topic{sampleTopic()}
	}
	cfg := &Config{Broker: broker, ClientID: "test-" + strings.ReplaceAll(t.Name(), "/", "-"), Topics: topics,
		KeepAlive: 5 * time.Second, ConnectTimeout: 5 * time.Second}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startSource runs a source against cfg and waits until it has subscribed.
func startSource(t testing.TB, cfg *Config, plans map[string]*Plan, now func() time.Time) *harness {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	reg := prometheus.NewRegistry()
	h := health.New(reg)
	state := NewState(plans, cfg.MaxTags, cfg.TagExpiry)
	holder := registry.NewHolder(nil)
	reg.MustRegister(NewCollector(state, holder, cfg, now))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src := NewSource(cfg, state, h, logger, now)
	ctx, cancel := context.WithCancel(context.Background())
	hr := &harness{cfg: cfg, state: state, src: src, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(hr.done)
		if err := src.Run(ctx); err != nil {
			t.Errorf("source stopped: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-hr.done
	})
	waitFor(t, 30*time.Second, "source subscribed", src.Connected)
	return hr
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publisher connects a paho client for publishing test messages.
func publisher(t testing.TB, broker string, opts ...func(*mqtt.ClientOptions)) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("pub-%d", time.Now().UnixNano())).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond)
	for _, f := range opts {
		f(o)
	}
	c := mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher cannot connect to %s: %v", broker, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t testing.TB, c mqtt.Client, topic string, qos byte, payload string) {
	t.Helper()
	tok := c.Publish(topic, qos, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish to %s failed: %v", topic, tok.Error())
	}
}

// series returns every series of a metric as "label=value,..." -> value,
// with labels sorted by name.
func series(t testing.TB, reg prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[labelString(m)] = value(m)
		}
	}
	return out
}

func labelString(m *dto.Metric) string {
	var parts []string
	for _, lp := range m.GetLabel() {
		parts = append(parts, lp.GetName()+"="+lp.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return 0
}

// errorCount returns mine_source_errors_total summed over mines for reason.
func errorCount(t testing.TB, reg prometheus.Gatherer, reason string) float64 {
	t.Helper()
	sum := 0.0
	for k, v := range series(t, reg, "mine_source_errors_total") {
		if strings.Contains(k, "reason="+reason) {
			sum += v
		}
	}
	return sum
}
