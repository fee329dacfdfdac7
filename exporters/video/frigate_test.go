package video

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/internal/testenv"
)

func frigateEnv(t *testing.T, broker string) (*testEnv, *frigateClient) {
	t.Helper()
	cfg := testConfig()
	cfg.Frigate = []Frigate{{MineID: testMine, Broker: "tcp://" + broker}}
	cfg.SetDefaults()
	env := newTestEnv(t, cfg)
	var client *frigateClient
	for _, r := range env.source.Runners {
		if c, ok := r.(*frigateClient); ok {
			client = c
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = client.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return env, client
}

func publisher(t *testing.T, broker string) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + broker).SetClientID("test-frigate").
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond))
	if tok := c.Connect(); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatalf("connecting the test publisher failed: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t *testing.T, c mqtt.Client, topic string, payload []byte) {
	t.Helper()
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish to %s failed: %v", topic, tok.Error())
	}
}

// subscribed waits until the client reports its subscription as a success.
func subscribed(t *testing.T, env *testEnv) {
	t.Helper()
	eventually(t, 30*time.Second, "Frigate subscription", func() bool {
		return env.healthUp("frigate/frigate") == 1
	})
}

func (e *testEnv) healthUp(target string) float64 {
	families, _ := e.reg.Gather()
	for _, f := range families {
		if f.GetName() != "mine_source_up" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "target" && l.GetValue() == target {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

func TestFrigateSampleOverMosquitto(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	env, _ := frigateEnv(t, broker.Addr)
	subscribed(t, env)
	pub := publisher(t, broker.Addr)

	data := readSample(t, "frigate-events.jsonl")
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		publish(t, pub, "frigate/events", append([]byte(nil), sc.Bytes()...))
		lines++
	}
	publish(t, pub, "frigate/events", []byte(`{"type":"new","after":`)) // broken JSON
	publish(t, pub, "frigate/available", []byte("online"))

	eventually(t, 20*time.Second, "truck_out from the coal yard gate", func() bool {
		return env.eventsTotal("coal_yard_gate", EventTruckOut) == 1
	})
	eventually(t, 20*time.Second, "all sample messages decoded", func() bool {
		return testutil.ToFloat64(env.source.Engine.received.WithLabelValues(testMine, "frigate")) == float64(lines)
	})
	if got := env.eventsTotal("main_belt", EventDangerZonePerson); got != 1 {
		t.Errorf("danger_zone_person counted %v times for one person in belt_guard, want 1", got)
	}
	if got := env.active("main_belt", EventDangerZonePerson); got != 0 {
		t.Errorf("danger_zone_person active after the end message = %v, want 0", got)
	}
	eventually(t, 20*time.Second, "broken JSON dropped", func() bool {
		return testutil.ToFloat64(env.source.Engine.dropped.WithLabelValues(testMine, "frigate", "invalid_json")) == 1
	})
	eventually(t, 20*time.Second, "availability online", func() bool {
		return env.frigateAvailable() == 1
	})
	publish(t, pub, "frigate/available", []byte("offline"))
	eventually(t, 20*time.Second, "availability offline", func() bool { return env.frigateAvailable() == 0 })
}

func (e *testEnv) frigateAvailable() float64 {
	families, _ := e.reg.Gather()
	for _, f := range families {
		if f.GetName() == "mine_video_frigate_available" && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

func TestFrigateResubscribesAfterBrokerRestart(t *testing.T) {
	broker := testenv.Mosquitto(t, "")
	env, _ := frigateEnv(t, broker.Addr)
	subscribed(t, env)

	broker.Stop()
	eventually(t, 30*time.Second, "connection loss noticed", func() bool { return env.healthUp("frigate/frigate") == 0 })
	// The same config file brings the broker back on the same port,
	// without persistence: only a new SUBSCRIBE restores delivery.
	conf := filepath.Join(broker.Dir, "mosquitto.conf")
	if _, err := os.Stat(conf); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, "mosquitto", []string{"-c", conf}, broker.Addr, testenv.TCPReady(broker.Addr))
	subscribed(t, env)

	pub := publisher(t, broker.Addr)
	msg := []byte(`{"type":"new","after":{"id":"r1","camera":"coal_yard_gate","label":"truck","current_zones":["exit_lane"]}}`)
	eventually(t, 30*time.Second, "event delivered after the restart", func() bool {
		publish(t, pub, "frigate/events", msg)
		time.Sleep(200 * time.Millisecond)
		return env.eventsTotal("coal_yard_gate", EventTruckOut) >= 1
	})
}

func TestFrigateQueueFullDrops(t *testing.T) {
	cfg := testConfig()
	cfg.Frigate = []Frigate{{MineID: testMine, Broker: "tcp://127.0.0.1:1", QueueSize: 2}}
	cfg.SetDefaults()
	env := newTestEnv(t, cfg)
	var client *frigateClient
	for _, r := range env.source.Runners {
		if c, ok := r.(*frigateClient); ok {
			client = c
		}
	}
	// Nothing drains the queue here: the third message must be dropped
	// without blocking paho's handler.
	for range 3 {
		client.enqueue(nil, nil)
	}
	if got := testutil.ToFloat64(env.source.Engine.dropped.WithLabelValues(testMine, "frigate", "queue_full")); got != 1 {
		t.Errorf("queue_full drops = %v, want 1", got)
	}
}
