package positioning

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/health"
)

func TestBrokenMessagesLoggedOncePerMinute(t *testing.T) {
	cfg := baseConfig(t, "tcp://127.0.0.1:1883")
	state := NewState(nil, cfg.MaxTags, cfg.TagExpiry)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	src := NewSource(cfg, state, health.New(prometheus.NewRegistry()), logger, time.Now)

	start := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	broken := func(at time.Duration, topic string) {
		src.handle(message{topic: topic, payload: []byte("{not json"), received: start.Add(at)})
	}
	broken(0, "mine/320382000101/uwb/tag/T1")
	broken(time.Second, "mine/320382000101/uwb/tag/T2")
	broken(2*time.Second, "mine/320382000101/uwb/tag/T3")
	src.handle(message{topic: "other/topic", payload: []byte("{}"), received: start.Add(3 * time.Second)})

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines within the first minute, want 2 (one per reason):\n%s", len(lines), logs.String())
	}
	for _, want := range []string{"MQTT message dropped", "reason=invalid_json", "mine_id=320382000101",
		"topic=mine/320382000101/uwb/tag/T1", "dropped_since_last_line=1"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first line lacks %q: %s", want, lines[0])
		}
	}
	if !strings.Contains(lines[1], "reason=unknown_topic") {
		t.Errorf("second line lacks reason=unknown_topic: %s", lines[1])
	}

	// After the interval the next drop logs again and counts the two
	// drops that were not logged.
	broken(time.Minute, "mine/320382000101/uwb/tag/T4")
	lines = strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d log lines after a minute, want 3:\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[2], "topic=mine/320382000101/uwb/tag/T4") {
		t.Errorf("third line lacks the topic of the latest drop: %s", lines[2])
	}
	if !strings.Contains(lines[2], "dropped_since_last_line=3") {
		t.Errorf("third line does not count the 3 drops since the first: %s", lines[2])
	}
	if got := src.broken.Load(); got != 5 {
		t.Errorf("broken counter %d, want 5", got)
	}
}
