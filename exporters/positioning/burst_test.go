package positioning

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/internal/testenv"
)

// A burst of QoS 0 messages larger than the queue must not starve the MQTT
// keepalive: the client stays connected and every message is either
// processed or counted as dropped.
func TestMQTTBurstKeepsConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 330,000 messages")
	}
	// Unlimited broker queues, so that every message reaches the client
	// and any loss is the client's and counted.
	broker := testenv.Mosquitto(t, "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n")
	cfg := baseConfig(t, "tcp://"+broker.Addr)
	cfg.KeepAlive = 2 * time.Second
	cfg.QueueSize = 8192
	h := startSource(t, cfg, samplePlans(t), nil)

	const total = 330000
	pub := dialRaw(t, broker.Addr, "burst")
	var payload []byte
	topics := make([]string, 10000)
	for i := range topics {
		topics[i] = fmt.Sprintf("mine/320382000101/uwb/tag/T%05d", i)
	}
	for n := range total {
		payload = tagPayload(payload[:0], n%len(topics), n)
		if err := pub.Publish(topics[n%len(topics)], payload); err != nil {
			t.Fatalf("publish %d: %v", n, err)
		}
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}

	waitFor(t, 180*time.Second, "every message processed or dropped", func() bool {
		st := h.src.Stats()
		return st.Processed+st.Dropped+st.Broken >= total
	})
	st := h.src.Stats()
	t.Logf("processed %d, dropped %d, broken %d", st.Processed, st.Dropped, st.Broken)
	if st.Processed+st.Dropped+st.Broken != total {
		t.Errorf("processed %d + dropped %d + broken %d != %d", st.Processed, st.Dropped, st.Broken, total)
	}
	if st.Broken != 0 {
		t.Errorf("%d messages counted broken", st.Broken)
	}
	if st.Losses != 0 || st.Connects != 1 {
		t.Errorf("connection lost %d times, %d connects: the burst starved the keepalive", st.Losses, st.Connects)
	}
	if got := errorCount(t, h.reg, ReasonQueueFull); got != float64(st.Dropped) {
		t.Errorf("queue_full errors %v, dropped %d", got, st.Dropped)
	}
	if strings.Contains(broker.Logs(), "dropp") {
		t.Errorf("the broker dropped messages:\n%s", broker.Logs())
	}
	// The keepalive runs on: after two more intervals the client is still up.
	time.Sleep(2 * cfg.KeepAlive)
	if st := h.src.Stats(); st.Losses != 0 {
		t.Errorf("connection lost after the burst")
	}
}
