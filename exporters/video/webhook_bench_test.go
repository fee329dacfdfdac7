package video

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkWebhookXML posts the Hikvision XML sample through the whole
// handler (authentication, body limit, XML decode, mapping, metrics)
// without the network, one event per request.
func BenchmarkWebhookXML(b *testing.B) {
	env := newTestEnv(b, testConfig())
	mux := http.NewServeMux()
	env.source.Webhook.Register(mux)
	body := readSample(b, "hikvision-alert.xml")

	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, HikvisionPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/xml")
		req.Header.Set("Authorization", bearer)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkWebhookOversizedFlood posts 8 MiB bodies without a
// Content-Length (chunked), so the handler must read up to the 1 MiB
// limit before it rejects them. The heap after the flood shows that
// memory stays bounded by the limit, not by the body size.
func BenchmarkWebhookOversizedFlood(b *testing.B) {
	env := newTestEnv(b, testConfig())
	mux := http.NewServeMux()
	env.source.Webhook.Register(mux)
	chunk := strings.Repeat("<x>", 1<<16)

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		body := io.LimitReader(repeatReader(chunk), 8<<20)
		req := httptest.NewRequest(http.MethodPost, HikvisionPath, body)
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/xml")
		req.Header.Set("Authorization", bearer)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusRequestEntityTooLarge {
			b.Fatalf("status %d, want 413", w.Code)
		}
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB-after")
}

type repeatReader string

func (r repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}
