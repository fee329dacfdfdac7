// Package health holds the metrics every source reports about itself:
// whether each target answers, why it failed and when it last succeeded.
package health

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Health records the state of a source's targets. Its methods are safe
// for concurrent use.
type Health struct {
	up          *prometheus.GaugeVec
	errors      *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
}

// New creates the source health metrics and registers them with reg.
func New(reg prometheus.Registerer) *Health {
	h := &Health{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mine_source_up",
			Help: "1 when the last read of the target succeeded, 0 when it failed.",
		}, []string{"mine_id", "source", "target"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_source_errors_total",
			Help: "Failed reads, parses or writes of a target, by reason.",
		}, []string{"mine_id", "source", "target", "reason"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mine_source_last_success_timestamp_seconds",
			Help: "Unix time of the target's last successful read.",
		}, []string{"mine_id", "source", "target"}),
	}
	reg.MustRegister(h.up, h.errors, h.lastSuccess)
	return h
}

// Success marks a target up and records the time of its success.
func (h *Health) Success(mineID, source, target string, at time.Time) {
	h.up.WithLabelValues(mineID, source, target).Set(1)
	h.lastSuccess.WithLabelValues(mineID, source, target).Set(float64(at.UnixNano()) / 1e9)
}

// Failure marks a target down and counts the failure under reason. A
// reason is a short snake_case word such as timeout or exception_2, never
// free text, so that the label stays bounded.
func (h *Health) Failure(mineID, source, target, reason string) {
	h.up.WithLabelValues(mineID, source, target).Set(0)
	h.errors.WithLabelValues(mineID, source, target, reason).Inc()
}

// Error counts an error that does not make the target down, such as one
// malformed record in an otherwise good file.
func (h *Health) Error(mineID, source, target, reason string) {
	h.errors.WithLabelValues(mineID, source, target, reason).Inc()
}

// Forget removes a target's series, for a target dropped from the config.
func (h *Health) Forget(mineID, source, target string) {
	h.up.DeleteLabelValues(mineID, source, target)
	h.lastSuccess.DeleteLabelValues(mineID, source, target)
	h.errors.DeletePartialMatch(prometheus.Labels{"mine_id": mineID, "source": source, "target": target})
}
