package video

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/minewatch/minewatch/exporters/sim"
	"github.com/minewatch/minewatch/internal/testenv"
)

// probeEnv runs the video source with one camera at url until the test ends.
func probeEnv(t *testing.T, url string, timeout time.Duration) *testEnv {
	t.Helper()
	cfg := testConfig()
	cfg.Cameras[2].RTSPURL = url
	cfg.Cameras[2].Probe = Probe{Timeout: timeout, Window: 500 * time.Millisecond, Interval: 200 * time.Millisecond}
	cfg.SetDefaults()
	env := newTestEnv(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var probe Runner
	for _, r := range env.source.Runners {
		if _, ok := r.(*cameraProbe); ok {
			probe = r
		}
	}
	if probe == nil {
		t.Fatal("no camera probe was built for a camera with rtsp_url")
	}
	go func() {
		defer close(done)
		_ = probe.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return env
}

func (e *testEnv) probeErrors(reason string) float64 {
	m := e.source.metrics()
	return testutil.ToFloat64(m.errors.WithLabelValues(testMine, "main_belt", reason))
}

func startCameraServer(t *testing.T) (*sim.CameraServer, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	s := sim.NewCameraServer(addr)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, addr
}

func TestProbeHealthyCameraWithMetadata(t *testing.T) {
	server, addr := startCameraServer(t)
	// 48-byte payloads split each metadata document into dozens of packets.
	cam, err := server.AddCamera(testMine+"/main_belt", sim.CameraOptions{Metadata: true, MetadataPacketSize: 48})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = cam.Run(ctx) }()
	go func() {
		for ctx.Err() == nil {
			cam.PublishMetadata(sim.ONVIFMetadata(time.Now(), "belt_motion", true), time.Now())
			time.Sleep(100 * time.Millisecond)
		}
	}()

	env := probeEnv(t, "rtsp://"+addr+"/"+testMine+"/main_belt", 5*time.Second)
	m := env.source.metrics()
	eventually(t, 20*time.Second, "camera up", func() bool {
		return testutil.ToFloat64(m.up.WithLabelValues(testMine, "main_belt")) == 1
	})
	fps := testutil.ToFloat64(m.fps.WithLabelValues(testMine, "main_belt"))
	if fps < 2 || fps > 20 {
		t.Errorf("frames per second = %v, want about %d", fps, sim.ClipFPS)
	}
	if bitrate := testutil.ToFloat64(m.bitrate.WithLabelValues(testMine, "main_belt")); bitrate <= 0 {
		t.Errorf("bitrate = %v, want > 0", bitrate)
	}
	if got := testutil.ToFloat64(m.info.WithLabelValues(testMine, "main_belt", "h264", "320x240")); got != 1 {
		t.Errorf("stream_info{codec=h264,resolution=320x240} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.firstFrame.WithLabelValues(testMine, "main_belt")); got <= 0 || got > 5 {
		t.Errorf("first_frame_seconds = %v, want within the 5s timeout", got)
	}
	eventually(t, 10*time.Second, "belt_running from the metadata track", func() bool {
		return env.active("main_belt", EventBeltRunning) == 1
	})
	if got := testutil.ToFloat64(m.documents.WithLabelValues(testMine, "main_belt")); got < 1 {
		t.Errorf("metadata documents = %v, want >= 1", got)
	}
	if got := env.probeErrors("metadata_invalid_xml"); got != 0 {
		t.Errorf("metadata_invalid_xml errors = %v, want 0", got)
	}

	cam.PublishMetadata(sim.ONVIFMetadata(time.Now(), "belt_motion", false), time.Now())
	cancel() // stop the true documents too
	eventually(t, 10*time.Second, "belt_running ended by IsMotion=false", func() bool {
		return env.active("main_belt", EventBeltRunning) == 0
	})
}

func TestProbeCameraAcceptsAndSendsNothing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // hold the connection open, silent
		}
	}()

	env := probeEnv(t, "rtsp://"+l.Addr().String()+"/x", 500*time.Millisecond)
	eventually(t, 20*time.Second, "timeout counted", func() bool { return env.probeErrors("timeout") >= 1 })
	if got := testutil.ToFloat64(env.source.metrics().up.WithLabelValues(testMine, "main_belt")); got != 0 {
		t.Errorf("up = %v, want 0", got)
	}
}

func TestProbeCameraPlaysButSendsNoFrames(t *testing.T) {
	server, addr := startCameraServer(t)
	if _, err := server.AddCamera(testMine+"/main_belt", sim.CameraOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	env := probeEnv(t, "rtsp://"+addr+"/"+testMine+"/main_belt", 700*time.Millisecond)
	eventually(t, 20*time.Second, "no_frames counted", func() bool { return env.probeErrors("no_frames") >= 1 })
}

// statusHandler answers every DESCRIBE with one RTSP status.
type statusHandler struct{ status base.StatusCode }

func (h statusHandler) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: h.status}, nil, nil
}

func TestProbeCameraAnswersRTSPErrors(t *testing.T) {
	for _, status := range []base.StatusCode{base.StatusUnauthorized, base.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
			s := &gortsplib.Server{Handler: statusHandler{status}, RTSPAddress: addr}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			env := probeEnv(t, "rtsp://"+addr+"/cam", 2*time.Second)
			reason := fmt.Sprintf("rtsp_%d", status)
			eventually(t, 20*time.Second, reason+" counted", func() bool { return env.probeErrors(reason) >= 1 })
		})
	}

	server, addr := startCameraServer(t)
	_ = server
	env := probeEnv(t, "rtsp://"+addr+"/no/such/camera", 2*time.Second)
	eventually(t, 20*time.Second, "rtsp_404 counted", func() bool { return env.probeErrors("rtsp_404") >= 1 })
}
