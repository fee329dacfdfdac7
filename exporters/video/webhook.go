package video

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/health"
)

// Webhook paths under the exporter's /api/ routes.
const (
	HikvisionPath = "/api/v1/video/hikvision"
	EventsPath    = "/api/v1/video/events"
)

// sourceName is the source label of the video source's health metrics.
const sourceName = "video"

// WebhookHandler receives AI events over HTTP: Hikvision-style
// EventNotificationAlert (XML, JSON, or multipart with image parts) on
// HikvisionPath and our own JSON shape on EventsPath.
type WebhookHandler struct {
	engine  *Engine
	health  *health.Health
	logger  *slog.Logger
	maxBody int64

	byToken map[[sha256.Size]byte]*Site
	byUser  map[string]*Site

	requests *prometheus.CounterVec
	bufs     sync.Pool
	limiter  logLimiter
}

// NewWebhookHandler creates the handler for cfg's sites and registers
// its request counter with reg.
func NewWebhookHandler(cfg *Config, engine *Engine, h *health.Health, reg prometheus.Registerer,
	logger *slog.Logger) *WebhookHandler {
	wh := &WebhookHandler{
		engine:  engine,
		health:  h,
		logger:  logger,
		maxBody: cfg.Webhook.MaxBodyBytes,
		byToken: map[[sha256.Size]byte]*Site{},
		byUser:  map[string]*Site{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mine_video_webhook_requests_total",
			Help: "Webhook requests by site and HTTP status code; mine_id and site are \"unknown\" before authentication.",
		}, []string{"mine_id", "site", "code"}),
		bufs:    sync.Pool{New: func() any { return new(bytes.Buffer) }},
		limiter: logLimiter{every: 10 * time.Second, last: map[string]time.Time{}},
	}
	reg.MustRegister(wh.requests)
	for i := range cfg.Webhook.Sites {
		s := &cfg.Webhook.Sites[i]
		if s.BearerToken != "" {
			wh.byToken[sha256.Sum256([]byte(s.BearerToken))] = s
		}
		if s.Username != "" {
			wh.byUser[s.Username] = s
		}
	}
	return wh
}

// Register mounts the webhook routes on mux.
func (wh *WebhookHandler) Register(mux *http.ServeMux) {
	mux.HandleFunc(HikvisionPath, func(w http.ResponseWriter, r *http.Request) {
		wh.serve(w, r, wh.hikvision)
	})
	mux.HandleFunc(EventsPath, func(w http.ResponseWriter, r *http.Request) {
		wh.serve(w, r, wh.ownJSON)
	})
}

// requestError is a rejection with its HTTP status and a bounded reason
// for mine_source_errors_total.
type requestError struct {
	status int
	reason string
	err    error
}

func (e *requestError) Error() string { return e.err.Error() }

func reject(status int, reason string, format string, args ...any) *requestError {
	return &requestError{status: status, reason: reason, err: fmt.Errorf(format, args...)}
}

type decodeFunc func(site *Site, contentType string, body []byte) (int, *requestError)

func (wh *WebhookHandler) serve(w http.ResponseWriter, r *http.Request, decode decodeFunc) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		wh.fail(w, nil, reject(http.StatusMethodNotAllowed, "method_not_allowed",
			"method %s is not allowed: POST the event", r.Method))
		return
	}
	site, rerr := wh.authenticate(r)
	if rerr != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="minewatch video", Basic realm="minewatch video"`)
		wh.fail(w, nil, rerr)
		return
	}
	if r.ContentLength > wh.maxBody {
		wh.fail(w, site, reject(http.StatusRequestEntityTooLarge, "body_too_large",
			"body of %d bytes exceeds the limit of %d bytes (video.webhook.max_body_bytes)",
			r.ContentLength, wh.maxBody))
		return
	}

	buf := wh.bufs.Get().(*bytes.Buffer)
	defer wh.putBuffer(buf)
	buf.Reset()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, wh.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			wh.fail(w, site, reject(http.StatusRequestEntityTooLarge, "body_too_large",
				"body exceeds the limit of %d bytes (video.webhook.max_body_bytes)", wh.maxBody))
			return
		}
		wh.fail(w, site, reject(http.StatusBadRequest, "read_failed", "reading the body failed: %v", err))
		return
	}

	n, rerr := decode(site, r.Header.Get("Content-Type"), buf.Bytes())
	if rerr != nil {
		wh.fail(w, site, rerr)
		return
	}
	wh.requests.WithLabelValues(site.MineID, site.Name, "200").Inc()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"accepted\":%d}\n", n)
}

// putBuffer returns a body buffer to the pool unless it grew past the
// body limit's order of size, so that the pool holds only small buffers.
func (wh *WebhookHandler) putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		wh.bufs.Put(buf)
	}
}

func (wh *WebhookHandler) authenticate(r *http.Request) (*Site, *requestError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, reject(http.StatusUnauthorized, "unauthorized",
			"missing Authorization header: send the site's bearer token or basic auth")
	}
	if token, ok := strings.CutPrefix(auth, "Bearer "); ok {
		if site := wh.byToken[sha256.Sum256([]byte(token))]; site != nil {
			return site, nil
		}
		return nil, reject(http.StatusUnauthorized, "unauthorized", "bearer token matches no webhook site")
	}
	if user, password, ok := r.BasicAuth(); ok {
		site := wh.byUser[user]
		if site != nil && subtle.ConstantTimeCompare([]byte(password), []byte(site.Password)) == 1 {
			return site, nil
		}
		return nil, reject(http.StatusUnauthorized, "unauthorized", "basic auth user or password is wrong")
	}
	return nil, reject(http.StatusUnauthorized, "unauthorized",
		"unsupported Authorization scheme: use Bearer or Basic")
}

func (wh *WebhookHandler) fail(w http.ResponseWriter, site *Site, rerr *requestError) {
	mineID, name := "unknown", "unknown"
	if site != nil {
		mineID, name = site.MineID, site.Name
		wh.health.Error(mineID, sourceName, "webhook/"+name, rerr.reason)
	}
	wh.requests.WithLabelValues(mineID, name, strconv.Itoa(rerr.status)).Inc()
	if wh.limiter.allow(name + "/" + rerr.reason) {
		wh.logger.Warn("webhook request rejected", "mine_id", mineID, "site", name,
			"status", rerr.status, "reason", rerr.reason, "err", rerr.err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rerr.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": rerr.Error()})
}

func (wh *WebhookHandler) hikvision(site *Site, contentType string, body []byte) (int, *requestError) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if contentType != "" && err != nil {
		return 0, reject(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"invalid Content-Type %q: %v", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		part, partType, rerr := eventPart(body, params["boundary"])
		if rerr != nil {
			return 0, rerr
		}
		body, mediaType = part, partType
	}

	var alert *Alert
	var format string
	switch kind := bodyKind(mediaType, body); kind {
	case "xml":
		format = "hikvision_xml"
		alert, err = ParseAlertXML(body)
	case "json":
		format = "hikvision_json"
		alert, err = ParseAlertJSON(body)
	default:
		return 0, reject(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type %q is not XML, JSON or multipart: send an EventNotificationAlert", contentType)
	}
	if err != nil {
		wh.engine.Drop(site.MineID, format, "invalid_"+format[len("hikvision_"):])
		return 0, reject(http.StatusBadRequest, "invalid_"+format[len("hikvision_"):], "%v", err)
	}
	if err := wh.engine.Observe(alert.Raw(site.MineID, format)); err != nil {
		return 0, reject(http.StatusUnprocessableEntity, "unknown_camera", "%v", err)
	}
	return 1, nil
}

func (wh *WebhookHandler) ownJSON(site *Site, contentType string, body []byte) (int, *requestError) {
	if mediaType, _, _ := mime.ParseMediaType(contentType); contentType != "" && mediaType != "application/json" {
		return 0, reject(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type %q is not application/json", contentType)
	}
	events, err := ParseOwnJSON(body)
	if err != nil {
		wh.engine.Drop(site.MineID, "json", "invalid_json")
		return 0, reject(http.StatusBadRequest, "invalid_json", "%v", err)
	}
	var unknown []error
	for i := range events {
		if err := wh.engine.Observe(events[i].Raw(site.MineID)); err != nil {
			unknown = append(unknown, err)
		}
	}
	if len(unknown) > 0 {
		return len(events) - len(unknown), reject(http.StatusUnprocessableEntity, "unknown_camera",
			"%d of %d events rejected: %v", len(unknown), len(events), errors.Join(unknown...))
	}
	return len(events), nil
}

// eventPart returns the first XML or JSON part of a multipart body; image
// parts (the snapshot Hikvision attaches) are skipped.
func eventPart(body []byte, boundary string) ([]byte, string, *requestError) {
	if boundary == "" {
		return nil, "", reject(http.StatusBadRequest, "invalid_multipart", "multipart Content-Type has no boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, "", reject(http.StatusBadRequest, "invalid_multipart",
				"multipart body has no XML or JSON part with the EventNotificationAlert")
		}
		if err != nil {
			return nil, "", reject(http.StatusBadRequest, "invalid_multipart", "invalid multipart body: %v", err)
		}
		partType, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if strings.HasPrefix(partType, "image/") {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, "", reject(http.StatusBadRequest, "invalid_multipart", "invalid multipart part: %v", err)
		}
		if bodyKind(partType, data) != "" {
			return data, partType, nil
		}
	}
}

// bodyKind returns "xml" or "json" from the media type, or from the first
// byte when the sender gave a generic type (text/plain,
// application/octet-stream or none), as some firmware does.
func bodyKind(mediaType string, body []byte) string {
	switch {
	case strings.HasSuffix(mediaType, "/xml") || strings.HasSuffix(mediaType, "+xml"):
		return "xml"
	case strings.HasSuffix(mediaType, "/json") || strings.HasSuffix(mediaType, "+json"):
		return "json"
	case mediaType == "" || mediaType == "text/plain" || mediaType == "application/octet-stream":
		trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
		if len(trimmed) > 0 && trimmed[0] == '<' {
			return "xml"
		}
		if len(trimmed) > 0 && trimmed[0] == '{' {
			return "json"
		}
	}
	return ""
}

// logLimiter lets one log line per key through every period, so that a
// flood of bad requests shows in the counters, not in the log.
type logLimiter struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

func (l *logLimiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last[key]) < l.every {
		return false
	}
	l.last[key] = now
	return true
}
