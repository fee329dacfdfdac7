// Package alertrecorder receives Alertmanager webhook notifications and
// keeps them, one JSON line each, so that the local stack and the
// end-to-end tests can see what inspectors would have been sent.
package alertrecorder

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxBodyBytes bounds one notification. Alertmanager sends at most a
// group's alerts; 10 MiB holds thousands of them.
const maxBodyBytes = 10 << 20

// Record is one received notification as stored in the file.
type Record struct {
	ReceivedAt time.Time `json:"received_at"`
	// Path is the request path, such as /receivers/county-320382.
	Path string `json:"path"`
	// Receiver is the last path element, for /receivers/<name> paths.
	Receiver string `json:"receiver"`
	// Notification is the webhook body as Alertmanager sent it.
	Notification json.RawMessage `json:"notification"`
}

// Notification is the part of Alertmanager's webhook payload (version 4)
// that tests look at.
type Notification struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	// Path is the path of the request that carried the alert; Alerts
	// fills it in.
	Path string `json:"-"`
}

// Recorder appends notifications to a file and keeps them in memory.
type Recorder struct {
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	file    *os.File
	records []Record

	received *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

// Open opens (or creates) the record file at path and loads the records
// already in it, so a restart keeps the history. A line that is not a
// valid record is an error that names the line.
func Open(path string, reg prometheus.Registerer, logger *slog.Logger) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open the record file: %w", err)
	}
	r := &Recorder{
		logger: logger,
		now:    time.Now,
		file:   f,
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alert_recorder_notifications_total",
			Help: "Webhook notifications recorded, by receiver.",
		}, []string{"receiver"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alert_recorder_rejected_total",
			Help: "Webhook requests rejected, by reason (invalid_json, too_large, write_failed).",
		}, []string{"reason"}),
	}
	if err := r.load(path); err != nil {
		f.Close()
		return nil, err
	}
	if reg != nil {
		reg.MustRegister(r.received, r.rejected)
	}
	return r, nil
}

func (r *Recorder) load(path string) error {
	if _, err := r.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("cannot read %s: %w", path, err)
	}
	sc := bufio.NewScanner(r.file)
	sc.Buffer(make([]byte, 64<<10), 2*maxBodyBytes)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("%s:%d: invalid record (%v): move the file away to start afresh", path, line, err)
		}
		r.records = append(r.records, rec)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cannot read %s: %w", path, err)
	}
	return nil
}

// Close closes the record file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.file.Close()
}

// Records returns a copy of everything recorded.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Record, len(r.records))
	copy(out, r.records)
	return out
}

// Handler returns the recorder's HTTP handler: GET /alerts returns every
// record as a JSON array, GET /-/healthy returns 200, and a POST to any
// other path records its body.
func (r *Recorder) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /alerts", r.serveRecords)
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("POST /", r.serveWebhook)
	return mux
}

func (r *Recorder) serveRecords(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	records := r.Records()
	if records == nil {
		records = []Record{}
	}
	if err := json.NewEncoder(w).Encode(records); err != nil {
		r.logger.Error("cannot send records", "err", err)
	}
}

func (r *Recorder) serveWebhook(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			r.rejected.WithLabelValues("too_large").Inc()
			http.Error(w, fmt.Sprintf("notification larger than %d bytes", maxBodyBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		r.rejected.WithLabelValues("invalid_json").Inc()
		r.logger.Warn("webhook body is not a JSON notification", "path", req.URL.Path, "err", err)
		http.Error(w, "body is not an Alertmanager JSON notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	rec := Record{
		ReceivedAt:   r.now().UTC(),
		Path:         req.URL.Path,
		Receiver:     receiverOf(req.URL.Path),
		Notification: json.RawMessage(compact(body)),
	}
	if err := r.append(rec); err != nil {
		r.rejected.WithLabelValues("write_failed").Inc()
		r.logger.Error("cannot record notification", "path", req.URL.Path, "err", err)
		// 500 makes Alertmanager retry, so nothing is lost.
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	r.received.WithLabelValues(rec.Receiver).Inc()
	r.logger.Info("notification recorded", "path", rec.Path, "receiver", n.Receiver,
		"status", n.Status, "alerts", len(n.Alerts), "group", n.GroupLabels)
	w.WriteHeader(http.StatusOK)
}

func (r *Recorder) append(rec Record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("cannot encode record: %w", err)
	}
	line = append(line, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.file.Write(line); err != nil {
		return fmt.Errorf("cannot append to %s: %w", r.file.Name(), err)
	}
	r.records = append(r.records, rec)
	return nil
}

// receiverOf returns the last element of a /receivers/<name> path, or
// the path without its leading slash.
func receiverOf(path string) string {
	path = strings.Trim(path, "/")
	if name, ok := strings.CutPrefix(path, "receivers/"); ok {
		return name
	}
	return path
}

// compact removes insignificant space so that a record stays one line.
func compact(body []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return body
	}
	return buf.Bytes()
}

// Alerts returns the alerts of every recorded notification in order of
// receipt, each with the path of its request.
func Alerts(records []Record) ([]Alert, error) {
	var out []Alert
	for i, rec := range records {
		var n Notification
		if err := json.Unmarshal(rec.Notification, &n); err != nil {
			return nil, fmt.Errorf("record %d (%s): %w", i, rec.Path, err)
		}
		for _, a := range n.Alerts {
			a.Path = rec.Path
			out = append(out, a)
		}
	}
	return out, nil
}
