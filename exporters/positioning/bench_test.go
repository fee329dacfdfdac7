package positioning

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minewatch/minewatch/internal/testenv"
)

const benchTags = 10000

// TestBenchPublisherProcess is the publisher of BenchmarkPositioningMQTT,
// run in its own process so that its CPU time is not the subscriber's.
// It does nothing unless POSITIONING_BENCH_PUBLISH is set to
// "addr,messages,rate" (rate in messages per second, 0 flat out).
func TestBenchPublisherProcess(t *testing.T) {
	spec := os.Getenv("POSITIONING_BENCH_PUBLISH")
	if spec == "" {
		return
	}
	parts := strings.Split(spec, ",")
	total, _ := strconv.Atoi(parts[1])
	rate, _ := strconv.Atoi(parts[2])
	pub := dialRaw(t, parts[0], fmt.Sprintf("bench-pub-%d", os.Getpid()))
	topics := make([]string, benchTags)
	for i := range topics {
		topics[i] = fmt.Sprintf("mine/320382000101/uwb/tag/T%05d", i)
	}
	start := time.Now()
	var payload []byte
	for n := range total {
		payload = tagPayload(payload[:0], n%benchTags, n)
		if err := pub.Publish(topics[n%benchTags], payload); err != nil {
			t.Fatal(err)
		}
		if rate > 0 && n%1000 == 999 {
			pub.w.Flush()
			if ahead := time.Duration(n+1)*time.Second/time.Duration(rate) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
}

// runPublisher publishes total messages through addr from a child process.
func runPublisher(b *testing.B, addr string, total, rate int) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchPublisherProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("POSITIONING_BENCH_PUBLISH=%s,%d,%d", addr, total, rate))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("publisher: %v\n%s", err, out)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssBytes() int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// phase is one measured run of a subscriber.
type phase struct {
	messages int
	wall     time.Duration
	cpu      time.Duration
}

func (p phase) perCore() float64 { return float64(p.messages) / p.cpu.Seconds() }
func (p phase) cpuPerMessage() time.Duration {
	return p.cpu / time.Duration(p.messages)
}

// measure publishes total messages at rate and waits until count reaches
// done; the CPU time is the whole subscriber process's.
func measure(b *testing.B, addr string, total, rate int, count func() uint64) phase {
	base := count()
	cpu0, t0 := cpuTime(), time.Now()
	runPublisher(b, addr, total, rate)
	deadline := time.Now().Add(5 * time.Minute)
	for count()-base < uint64(total) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d messages arrived", count()-base, total)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return phase{messages: total, wall: time.Since(t0), cpu: cpuTime() - cpu0}
}

// bareSubscriber is the ceiling: a paho client that decodes each message
// into a struct and counts it, nothing else.
func bareSubscriber(b *testing.B, broker string) (*atomic.Uint64, func()) {
	var n atomic.Uint64
	type fix struct {
		TagID   string  `json:"tagId"`
		Type    string  `json:"type"`
		X       float64 `json:"x"`
		Y       float64 `json:"y"`
		Z       float64 `json:"z"`
		Area    string  `json:"areaCode"`
		TS      string  `json:"ts"`
		Battery float64 `json:"battery"`
		SOS     bool    `json:"sos"`
	}
	opts := mqtt.NewClientOptions().AddBroker(broker).SetClientID("bench-bare").SetCleanSession(true).
		SetOnConnectHandler(func(c mqtt.Client) {
			c.Subscribe("mine/+/uwb/tag/+", 1, func(_ mqtt.Client, m mqtt.Message) {
				var f fix
				if json.Unmarshal(m.Payload(), &f) == nil {
					n.Add(1)
				}
			})
		})
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		b.Fatalf("bare subscriber: %v", tok.Error())
	}
	time.Sleep(500 * time.Millisecond) // subscription in flight; the benchmark may wait
	return &n, func() { c.Disconnect(100) }
}

// BenchmarkPositioningMQTT measures the exporter against a bare paho
// subscriber in the same run: 10,000 tags at 1 Hz, then 1,000,000 messages
// flat out, memory after them, and /metrics for 10,000 live tags. Run it
// once: go test -run '^$' -bench PositioningMQTT -benchtime 1x.
func BenchmarkPositioningMQTT(b *testing.B) {
	broker := testenv.Mosquitto(b, "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n")
	url := "tcp://" + broker.Addr
	const paced, flat = 10 * benchTags, 1000000

	cfg := baseConfig(b, url)
	cfg.MaxTags = 2 * benchTags
	h := startSource(b, cfg, samplePlans(b), nil)
	exporterCount := func() uint64 { st := h.src.Stats(); return st.Processed + st.Dropped + st.Broken }
	exp1Hz := measure(b, broker.Addr, paced, benchTags, exporterCount)
	expFlat := measure(b, broker.Addr, flat, 0, exporterCount)
	st := h.src.Stats()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := rssBytes()

	// /metrics for 10,000 live tags.
	handler := promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{})
	var scrape time.Duration
	var size, lines int
	const scrapes = 20
	for range scrapes {
		rec := httptest.NewRecorder()
		t0 := time.Now()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		scrape += time.Since(t0)
		body, _ := io.ReadAll(rec.Body)
		size = len(body)
		lines = strings.Count(string(body), "\n") - strings.Count(string(body), "\n#")
	}
	perTag := countSeriesPerTag(b, h)
	maxPerTag := 0
	for _, n := range perTag {
		maxPerTag = max(maxPerTag, n)
	}
	h.cancel()
	<-h.done

	bare, stop := bareSubscriber(b, url)
	bare1Hz := measure(b, broker.Addr, paced, benchTags, bare.Load)
	bareFlat := measure(b, broker.Addr, flat, 0, bare.Load)
	stop()

	b.Logf("1 Hz, %d tags, %d messages: exporter %.0f msg/s per core (%s CPU/msg), bare %.0f msg/s per core (%s CPU/msg)",
		benchTags, paced, exp1Hz.perCore(), exp1Hz.cpuPerMessage(), bare1Hz.perCore(), bare1Hz.cpuPerMessage())
	b.Logf("flat out, %d messages: exporter %.0f msg/s wall, %.0f msg/s per core (%s CPU/msg); bare %.0f msg/s wall, %.0f msg/s per core (%s CPU/msg)",
		flat, float64(flat)/expFlat.wall.Seconds(), expFlat.perCore(), expFlat.cpuPerMessage(),
		float64(flat)/bareFlat.wall.Seconds(), bareFlat.perCore(), bareFlat.cpuPerMessage())
	b.Logf("ratios: rate %.2f of the bare subscriber, CPU per message %.2f times",
		(float64(flat)/expFlat.wall.Seconds())/(float64(flat)/bareFlat.wall.Seconds()),
		float64(expFlat.cpuPerMessage())/float64(bareFlat.cpuPerMessage()))
	b.Logf("exporter after %d messages: processed %d, dropped %d, broken %d; RSS %.1f MiB, heap in use %.1f MiB",
		paced+flat, st.Processed, st.Dropped, st.Broken, float64(rss)/(1<<20), float64(ms.HeapInuse)/(1<<20))
	b.Logf("/metrics with %d tags: %s per scrape (mean of %d), %d series, %d bytes, at most %d series per tag",
		h.state.Len(), scrape/scrapes, scrapes, lines, size, maxPerTag)
	b.ReportMetric(float64(flat)/expFlat.wall.Seconds(), "exporter_msg/s")
	b.ReportMetric(float64(flat)/bareFlat.wall.Seconds(), "bare_msg/s")
	b.ReportMetric(float64(rss)/(1<<20), "rss_MiB")
	b.ReportMetric(float64((scrape/scrapes).Microseconds())/1000, "scrape_ms")
}
