// Package vmimport writes samples that carry their own timestamps to
// VictoriaMetrics through its Prometheus text import API
// (/api/v1/import/prometheus). Timestamps are Unix milliseconds:
// VictoriaMetrics answers 204 to timestamps in seconds and drops the rows.
package vmimport

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ImportPath is appended to the base URL. For the cluster version the base
// URL is vminsert's /insert/<tenant>/prometheus.
const ImportPath = "/api/v1/import/prometheus"

// Config is where and how to write.
type Config struct {
	// URL is the base URL of VictoriaMetrics, such as http://127.0.0.1:8428.
	URL string
	// Timeout bounds one HTTP request. Default 10s.
	Timeout time.Duration
	// Username and Password set basic auth when Username is not empty.
	Username string
	Password string
	// Attempts is how many times Write tries before it gives up. Default 3.
	Attempts int
	// RetryMin and RetryMax bound the wait between attempts; the wait
	// doubles after each failure. Defaults 200ms and 5s.
	RetryMin time.Duration
	RetryMax time.Duration
}

// Client writes to one VictoriaMetrics.
type Client struct {
	cfg    Config
	url    string
	client *http.Client
}

// New returns a client for cfg, filling unset fields with their defaults.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 200 * time.Millisecond
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = 5 * time.Second
	}
	return &Client{
		cfg:    cfg,
		url:    strings.TrimRight(cfg.URL, "/") + ImportPath,
		client: &http.Client{Timeout: cfg.Timeout},
	}
}

// PermanentError is a write that VictoriaMetrics rejected with a 4xx
// status: sending the same body again fails the same way.
type PermanentError struct {
	Status int
	Body   string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("VictoriaMetrics rejected the import with status %d: %s", e.Status, e.Body)
}

// IsPermanent reports whether err is a rejection that a retry cannot fix.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Write sends a body of Prometheus text lines (see AppendLine), gzipped,
// retrying transport errors and 5xx answers with backoff. It returns the
// last error after Attempts failures, a *PermanentError at once on a 4xx
// answer, and ctx's error when ctx ends first.
func (c *Client) Write(ctx context.Context, body []byte) error {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if _, err := zw.Write(body); err != nil {
		return fmt.Errorf("gzip import body: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("gzip import body: %w", err)
	}

	backoff := Backoff{Min: c.cfg.RetryMin, Max: c.cfg.RetryMax}
	var err error
	for attempt := 1; ; attempt++ {
		err = c.post(ctx, zipped.Bytes())
		if err == nil || IsPermanent(err) || attempt >= c.cfg.Attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff.Next()):
		}
	}
}

func (c *Client) post(ctx context.Context, zipped []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(zipped))
	if err != nil {
		return fmt.Errorf("build import request for %s: %w", c.url, err)
	}
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "text/plain")
	if c.cfg.Username != "" {
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("import to %s failed: %w", c.url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests &&
		resp.StatusCode != http.StatusRequestTimeout:
		return &PermanentError{Status: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
	}
	return fmt.Errorf("import to %s failed with status %s: %s", c.url, resp.Status, strings.TrimSpace(string(msg)))
}

// Label is one label of a sample.
type Label struct {
	Name, Value string
}

// AppendLine appends one sample in the Prometheus text format:
// name{labels} value timestamp, with the timestamp in Unix milliseconds.
func AppendLine(dst []byte, name string, labels []Label, value float64, millis int64) []byte {
	dst = append(dst, name...)
	if len(labels) > 0 {
		dst = append(dst, '{')
		for i, l := range labels {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, l.Name...)
			dst = append(dst, '=', '"')
			dst = appendEscaped(dst, l.Value)
			dst = append(dst, '"')
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ' ')
	switch {
	case math.IsNaN(value):
		dst = append(dst, "NaN"...)
	case math.IsInf(value, 1):
		dst = append(dst, "+Inf"...)
	case math.IsInf(value, -1):
		dst = append(dst, "-Inf"...)
	default:
		dst = strconv.AppendFloat(dst, value, 'g', -1, 64)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, millis, 10)
	return append(dst, '\n')
}

// appendEscaped escapes a label value: backslash, double quote and
// newline.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '"':
			dst = append(dst, '\\', '"')
		case '\n':
			dst = append(dst, '\\', 'n')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Backoff yields waits that double from Min up to Max. The zero value
// waits 1s up to 1m.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration
}

// Next returns the wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	if b.Min <= 0 {
		b.Min = time.Second
	}
	if b.Max < b.Min {
		b.Max = time.Minute
	}
	if b.next < b.Min {
		b.next = b.Min
	}
	d := b.next
	b.next *= 2
	if b.next > b.Max {
		b.next = b.Max
	}
	return d
}

// Reset starts again from Min after a success.
func (b *Backoff) Reset() { b.next = 0 }
