package video

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/health"
)

// maxMetadataDocument bounds one ONVIF metadata document. Real documents
// are a few kilobytes per frame.
const maxMetadataDocument = 1 << 20

// cameraMetrics are the stream health metrics of all cameras.
type cameraMetrics struct {
	up         *prometheus.GaugeVec
	fps        *prometheus.GaugeVec
	bitrate    *prometheus.GaugeVec
	firstFrame *prometheus.GaugeVec
	info       *prometheus.GaugeVec
	errors     *prometheus.CounterVec
	documents  *prometheus.CounterVec
}

func newCameraMetrics(reg prometheus.Registerer) *cameraMetrics {
	labels := []string{"mine_id", "camera"}
	m := &cameraMetrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mine_camera_up",
			Help: "1 while the camera's RTSP stream delivers frames, 0 otherwise."}, labels),
		fps: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mine_camera_frames_per_second",
			Help: "Video frames received per second over the last measuring window."}, labels),
		bitrate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mine_camera_bitrate_bits_per_second",
			Help: "Video RTP payload bits received per second over the last measuring window."}, labels),
		firstFrame: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mine_camera_first_frame_seconds",
			Help: "Time from opening the RTSP connection to the first whole video frame, last session."}, labels),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mine_camera_stream_info",
			Help: "1 with the codec and resolution (WIDTHxHEIGHT from the SPS) of the camera's video track."},
			[]string{"mine_id", "camera", "codec", "resolution"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mine_camera_probe_errors_total",
			Help: "RTSP session and metadata failures of the camera, by reason."},
			[]string{"mine_id", "camera", "reason"}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mine_camera_metadata_documents_total",
			Help: "ONVIF metadata documents reassembled and decoded from the camera's metadata track."}, labels),
	}
	reg.MustRegister(m.up, m.fps, m.bitrate, m.firstFrame, m.info, m.errors, m.documents)
	return m
}

// cameraProbe watches one camera's RTSP stream.
type cameraProbe struct {
	cam     Camera
	engine  *Engine
	health  *health.Health
	metrics *cameraMetrics
	logger  *slog.Logger
	now     func() time.Time
}

// probeError is a failed session with a bounded reason for the metrics.
type probeError struct {
	reason string
	err    error
}

func (e *probeError) Error() string { return e.err.Error() }
func (e *probeError) Unwrap() error { return e.err }

// Run opens sessions until ctx ends: one continuous session, or one of
// Probe.Duration every Probe.Interval. A failed session marks the
// camera down and is retried after Probe.Interval.
func (p *cameraProbe) Run(ctx context.Context) error {
	target := "rtsp/" + p.cam.ID
	p.metrics.up.WithLabelValues(p.cam.MineID, p.cam.ID).Set(0)
	for {
		err := p.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var pe *probeError
			reason := "failed"
			if errors.As(err, &pe) {
				reason = pe.reason
			}
			p.setDown()
			p.metrics.errors.WithLabelValues(p.cam.MineID, p.cam.ID, reason).Inc()
			p.health.Failure(p.cam.MineID, sourceName, target, reason)
			p.logger.Warn("RTSP session of camera failed, retrying", "reason", reason, "err", err,
				"retry_in", p.cam.Probe.Interval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.cam.Probe.Interval):
		}
	}
}

func (p *cameraProbe) setDown() {
	p.metrics.up.WithLabelValues(p.cam.MineID, p.cam.ID).Set(0)
	p.metrics.fps.WithLabelValues(p.cam.MineID, p.cam.ID).Set(0)
	p.metrics.bitrate.WithLabelValues(p.cam.MineID, p.cam.ID).Set(0)
}

// streamCounters are updated from gortsplib's packet callbacks.
type streamCounters struct {
	mu         sync.Mutex
	frames     int
	bytes      int
	firstFrame time.Time
	resolution string
}

func (p *cameraProbe) fail(reason, format string, args ...any) error {
	return &probeError{reason: reason, err: fmt.Errorf("camera %s of mine %s (%s): "+format,
		append([]any{p.cam.ID, p.cam.MineID, redactURL(p.cam.RTSPURL)}, args...)...)}
}

// session runs one RTSP session: DESCRIBE, SETUP of the video track (and
// the ONVIF metadata track), PLAY, then measuring per window until the
// session's duration ends, the stream stalls or ctx ends.
func (p *cameraProbe) session(ctx context.Context) error {
	probe := p.cam.Probe
	u, err := base.ParseURL(p.cam.RTSPURL)
	if err != nil {
		return p.fail("invalid_url", "invalid RTSP URL: %v", err)
	}
	transport := gortsplib.TransportTCP
	if probe.Transport == "udp" {
		transport = gortsplib.TransportUDP
	}
	dialer := &net.Dialer{Timeout: probe.Timeout}
	client := &gortsplib.Client{
		Scheme:       u.Scheme,
		Host:         u.Host,
		ReadTimeout:  probe.Timeout,
		WriteTimeout: probe.Timeout,
		Transport:    &transport,
		DialContext:  dialer.DialContext,
	}

	started := time.Now()
	if err := client.Start2(); err != nil {
		return p.fail("connect_failed", "starting the RTSP client failed: %v", err)
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, client.Close)
	defer stop()

	desc, _, err := client.Describe(u)
	if err != nil {
		return p.requestFailed("DESCRIBE", err)
	}

	video, codec, counters, err := p.setupVideo(client, desc)
	if err != nil {
		return err
	}
	if *probe.Metadata {
		if err := p.setupMetadata(client, desc); err != nil {
			return err
		}
	}
	if _, err := client.Play(nil); err != nil {
		return p.requestFailed("PLAY", err)
	}
	p.logger.Info("RTSP session of camera playing", "codec", codec, "media", video.Type)

	done := make(chan error, 1)
	go func() { done <- client.Wait() }()
	return p.measure(ctx, done, counters, codec, started)
}

// measure updates the health gauges every window until the session ends.
func (p *cameraProbe) measure(ctx context.Context, done <-chan error, counters *streamCounters,
	codec string, started time.Time) error {
	probe := p.cam.Probe
	firstFrameTimer := time.NewTimer(probe.Timeout)
	defer firstFrameTimer.Stop()
	window := time.NewTicker(probe.Window)
	defer window.Stop()
	var sessionEnd <-chan time.Time
	if probe.Duration > 0 {
		t := time.NewTimer(probe.Duration)
		defer t.Stop()
		sessionEnd = t.C
	}
	windowStart := time.Now()
	gotFirst := false
	shownInfo := ""

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-done:
			return p.fail("session_closed", "RTSP session closed: %v", err)
		case <-sessionEnd:
			return nil
		case <-firstFrameTimer.C:
			counters.mu.Lock()
			first := counters.firstFrame
			counters.mu.Unlock()
			if first.IsZero() {
				return p.fail("no_frames", "PLAY succeeded but no video frame arrived within %s", probe.Timeout)
			}
		case now := <-window.C:
			counters.mu.Lock()
			frames, bytes, first, resolution := counters.frames, counters.bytes, counters.firstFrame, counters.resolution
			counters.frames, counters.bytes = 0, 0
			counters.mu.Unlock()

			if first.IsZero() {
				continue // firstFrameTimer decides
			}
			if !gotFirst {
				gotFirst = true
				p.metrics.firstFrame.WithLabelValues(p.cam.MineID, p.cam.ID).Set(first.Sub(started).Seconds())
			}
			if resolution == "" {
				resolution = "unknown"
			}
			if info := codec + " " + resolution; info != shownInfo {
				shownInfo = info
				p.metrics.info.DeletePartialMatch(prometheus.Labels{"mine_id": p.cam.MineID, "camera": p.cam.ID})
				p.metrics.info.WithLabelValues(p.cam.MineID, p.cam.ID, codec, resolution).Set(1)
			}
			if frames == 0 {
				return p.fail("stalled", "no video frame arrived for %s", probe.Window)
			}
			elapsed := now.Sub(windowStart).Seconds()
			windowStart = now
			p.metrics.up.WithLabelValues(p.cam.MineID, p.cam.ID).Set(1)
			p.metrics.fps.WithLabelValues(p.cam.MineID, p.cam.ID).Set(float64(frames) / elapsed)
			p.metrics.bitrate.WithLabelValues(p.cam.MineID, p.cam.ID).Set(float64(bytes) * 8 / elapsed)
			p.health.Success(p.cam.MineID, sourceName, "rtsp/"+p.cam.ID, p.now())
		}
	}
}

// requestFailed classifies an RTSP request error: an error status from
// the camera (rtsp_401, rtsp_404...), a timeout or another failure.
func (p *cameraProbe) requestFailed(method string, err error) error {
	var status liberrors.ErrClientBadStatusCode
	if errors.As(err, &status) {
		hint := ""
		switch status.Code {
		case base.StatusUnauthorized:
			hint = ": put the user and password into rtsp_url"
		case base.StatusNotFound:
			hint = ": check the stream path of rtsp_url"
		}
		return p.fail("rtsp_"+strconv.Itoa(int(status.Code)), "%s answered %d %s%s",
			method, status.Code, status.Message, hint)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return p.fail("connect_failed", "connecting failed: %v", err)
	}
	var netErr net.Error
	var timedOut liberrors.ErrClientRequestTimedOut
	if errors.As(err, &timedOut) || errors.As(err, &netErr) && netErr.Timeout() {
		return p.fail("timeout", "%s timed out after %s: the camera accepted the connection but did not answer",
			method, p.cam.Probe.Timeout)
	}
	return p.fail("request_failed", "%s failed: %v", method, err)
}

// setupVideo sets up the first H.264 or H.265 track, or else the first
// video track of any codec, and registers the frame counting callback.
func (p *cameraProbe) setupVideo(client *gortsplib.Client, desc *description.Session) (
	*description.Media, string, *streamCounters, error) {
	counters := &streamCounters{}
	var h264Format *format.H264
	var h265Format *format.H265
	media := desc.FindFormat(&h264Format)
	if media == nil {
		media = desc.FindFormat(&h265Format)
	}
	if media == nil {
		for _, m := range desc.Medias {
			if m.Type == description.MediaTypeVideo {
				media = m
				break
			}
		}
	}
	if media == nil {
		return nil, "", nil, p.fail("no_video_track", "the stream has no video track")
	}
	if _, err := client.Setup(desc.BaseURL, media, 0, 0); err != nil {
		return nil, "", nil, p.requestFailed("SETUP", err)
	}

	switch {
	case h264Format != nil:
		sps, _ := h264Format.SafeParams()
		counters.resolution = h264Resolution(sps)
		decoder, err := h264Format.CreateDecoder()
		if err != nil {
			return nil, "", nil, p.fail("decoder_failed", "creating the H.264 RTP decoder failed: %v", err)
		}
		client.OnPacketRTP(media, h264Format, func(pkt *rtp.Packet) {
			au, err := decoder.Decode(pkt)
			counters.mu.Lock()
			defer counters.mu.Unlock()
			counters.bytes += len(pkt.Payload)
			if err != nil {
				return // fragments of an access unit, or a lost packet
			}
			counters.frames++
			if counters.firstFrame.IsZero() {
				counters.firstFrame = time.Now()
			}
			for _, nalu := range au {
				if len(nalu) > 0 && h264.NALUType(nalu[0]&0x1f) == h264.NALUTypeSPS {
					if r := h264Resolution(nalu); r != "" {
						counters.resolution = r
					}
				}
			}
		})
		return media, "h264", counters, nil

	default:
		forma := media.Formats[0]
		codec := strings.ToLower(forma.Codec())
		if h265Format != nil {
			forma, codec = h265Format, "h265"
			_, sps, _ := h265Format.SafeParams()
			counters.resolution = h265Resolution(sps)
		}
		// Without a depacketizer, the marker bit ends a frame (RFC 3550
		// video profiles set it on the last packet of a frame).
		client.OnPacketRTP(media, forma, func(pkt *rtp.Packet) {
			counters.mu.Lock()
			defer counters.mu.Unlock()
			counters.bytes += len(pkt.Payload)
			if pkt.Marker {
				counters.frames++
				if counters.firstFrame.IsZero() {
					counters.firstFrame = time.Now()
				}
			}
		})
		return media, codec, counters, nil
	}
}

// setupMetadata sets up the ONVIF metadata track when the stream has one
// and feeds its documents to the engine.
func (p *cameraProbe) setupMetadata(client *gortsplib.Client, desc *description.Session) error {
	for _, media := range desc.Medias {
		for _, forma := range media.Formats {
			if !IsONVIFMetadata(forma) {
				continue
			}
			if _, err := client.Setup(desc.BaseURL, media, 0, 0); err != nil {
				return p.requestFailed("SETUP", err)
			}
			r := &Reassembler{MaxSize: maxMetadataDocument}
			client.OnPacketRTP(media, forma, func(pkt *rtp.Packet) { p.metadataPacket(r, pkt) })
			return nil
		}
	}
	return nil
}

// IsONVIFMetadata reports whether a format is the ONVIF metadata track
// (rtpmap vnd.onvif.metadata/90000).
func IsONVIFMetadata(forma format.Format) bool {
	return strings.HasPrefix(strings.ToLower(forma.RTPMap()), "vnd.onvif.metadata/")
}

func (p *cameraProbe) metadataPacket(r *Reassembler, pkt *rtp.Packet) {
	doc, err := r.Push(pkt)
	if err != nil {
		reason := "metadata_packet_lost"
		if errors.Is(err, ErrDocumentTooLong) {
			reason = "metadata_too_long"
		}
		p.metrics.errors.WithLabelValues(p.cam.MineID, p.cam.ID, reason).Inc()
	}
	if doc == nil {
		return
	}
	m, err := ParseMetadata(doc)
	if err != nil {
		p.metrics.errors.WithLabelValues(p.cam.MineID, p.cam.ID, "metadata_invalid_xml").Inc()
		p.engine.Drop(p.cam.MineID, "onvif", "invalid_xml")
		return
	}
	p.metrics.documents.WithLabelValues(p.cam.MineID, p.cam.ID).Inc()
	for _, raw := range m.Raws(p.cam.MineID, p.cam.ID) {
		_ = p.engine.Observe(raw) // the camera id is always configured
	}
}

func h264Resolution(sps []byte) string {
	if len(sps) == 0 {
		return ""
	}
	var s h264.SPS
	if err := s.Unmarshal(sps); err != nil {
		return ""
	}
	return fmt.Sprintf("%dx%d", s.Width(), s.Height())
}

func h265Resolution(sps []byte) string {
	if len(sps) == 0 {
		return ""
	}
	var s h265.SPS
	if err := s.Unmarshal(sps); err != nil {
		return ""
	}
	return fmt.Sprintf("%dx%d", s.Width(), s.Height())
}

// redactURL hides the password of an RTSP URL for logs and errors.
func redactURL(raw string) string {
	u, err := base.ParseURL(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = nil
		return u.String() + " (credentials hidden)"
	}
	return raw
}
