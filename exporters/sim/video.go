package sim

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"
)

// videoClip is 2 s of ffmpeg's testsrc, 320x240 at 10 frames per second,
// H.264 constrained baseline without B-frames, in Annex-B with an access
// unit delimiter before each frame. Made once with:
//
//	ffmpeg -f lavfi -i testsrc=size=320x240:rate=10 -t 2 -c:v libx264 \
//	  -profile:v baseline -bf 0 -g 10 -x264-params aud=1 -pix_fmt yuv420p \
//	  -f h264 video_clip.h264
//
//go:embed video_clip.h264
var videoClip []byte

// ClipFPS is the frame rate of the embedded clip.
const ClipFPS = 10

// clip is the embedded clip split into access units, with its SPS and PPS.
type clip struct {
	units    [][][]byte
	sps, pps []byte
}

var loadClip = sync.OnceValues(func() (*clip, error) {
	var nalus h264.AnnexB
	if err := nalus.Unmarshal(videoClip); err != nil {
		return nil, fmt.Errorf("embedded H.264 clip: %w", err)
	}
	c := &clip{}
	var unit [][]byte
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeAccessUnitDelimiter:
			if len(unit) > 0 {
				c.units = append(c.units, unit)
			}
			unit = nil
			continue
		case h264.NALUTypeSPS:
			c.sps = n
		case h264.NALUTypePPS:
			c.pps = n
		}
		unit = append(unit, n)
	}
	if len(unit) > 0 {
		c.units = append(c.units, unit)
	}
	if c.sps == nil || c.pps == nil || len(c.units) == 0 {
		return nil, errors.New("embedded H.264 clip has no SPS, PPS or frames")
	}
	return c, nil
})

// CameraOptions describe one simulated camera stream.
type CameraOptions struct {
	// Metadata adds an ONVIF metadata track (vnd.onvif.metadata).
	Metadata bool
	// MetadataPacketSize splits each metadata document into RTP payloads
	// of at most this many bytes. Default 1200, below a typical MTU.
	MetadataPacketSize int
	// Silent makes the camera answer DESCRIBE, SETUP and PLAY but send
	// no packets, like an encoder that hangs.
	Silent bool
}

// CameraServer is an RTSP server of simulated cameras, one stream per
// path, serving RTP over TCP (interleaved).
type CameraServer struct {
	server *gortsplib.Server

	mu      sync.RWMutex
	cameras map[string]*SimCamera
}

// SimCamera is one camera stream of a CameraServer.
type SimCamera struct {
	path   string
	opts   CameraOptions
	stream *gortsplib.ServerStream
	video  *description.Media
	meta   *description.Media

	mu      sync.Mutex
	metaSeq uint16
}

// NewCameraServer creates a server listening on addr (host:port) once
// started.
func NewCameraServer(addr string) *CameraServer {
	s := &CameraServer{cameras: map[string]*SimCamera{}}
	s.server = &gortsplib.Server{Handler: s, RTSPAddress: addr}
	return s
}

// Start opens the listener.
func (s *CameraServer) Start() error {
	if err := s.server.Start(); err != nil {
		return fmt.Errorf("starting RTSP server on %s failed: %w", s.server.RTSPAddress, err)
	}
	return nil
}

// Close stops the server and its streams.
func (s *CameraServer) Close() {
	s.server.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cameras {
		c.stream.Close()
	}
}

// AddCamera adds a stream at path ("mine/camera", without a leading
// slash). Call Start first.
func (s *CameraServer) AddCamera(path string, opts CameraOptions) (*SimCamera, error) {
	c, err := loadClip()
	if err != nil {
		return nil, err
	}
	if opts.MetadataPacketSize == 0 {
		opts.MetadataPacketSize = 1200
	}
	cam := &SimCamera{path: path, opts: opts}
	cam.video = &description.Media{
		Type:    description.MediaTypeVideo,
		Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: c.sps, PPS: c.pps}},
	}
	desc := &description.Session{Medias: []*description.Media{cam.video}}
	if opts.Metadata {
		cam.meta = &description.Media{
			Type:    description.MediaTypeApplication,
			Formats: []format.Format{&format.Generic{PayloadTyp: 107, RTPMa: "vnd.onvif.metadata/90000", ClockRat: 90000}},
		}
		desc.Medias = append(desc.Medias, cam.meta)
	}
	cam.stream = &gortsplib.ServerStream{Server: s.server, Desc: desc}
	if err := cam.stream.Initialize(); err != nil {
		return nil, fmt.Errorf("camera %s: %w", path, err)
	}
	s.mu.Lock()
	s.cameras[path] = cam
	s.mu.Unlock()
	return cam, nil
}

func (s *CameraServer) camera(path string) *SimCamera {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cameras[strings.TrimPrefix(path, "/")]
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (s *CameraServer) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	cam := s.camera(ctx.Path)
	if cam == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, cam.stream, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (s *CameraServer) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	cam := s.camera(ctx.Path)
	if cam == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, cam.stream, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (s *CameraServer) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// Run sends the clip in a loop at ClipFPS until ctx ends. A silent
// camera sends nothing.
func (c *SimCamera) Run(ctx context.Context) error {
	if c.opts.Silent {
		<-ctx.Done()
		return nil
	}
	clip, err := loadClip()
	if err != nil {
		return err
	}
	enc, err := c.video.Formats[0].(*format.H264).CreateEncoder()
	if err != nil {
		return err
	}
	ticker := time.NewTicker(time.Second / ClipFPS)
	defer ticker.Stop()
	var timestamp uint32
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		packets, err := enc.Encode(clip.units[i%len(clip.units)])
		if err != nil {
			return fmt.Errorf("camera %s: packetizing frame %d failed: %w", c.path, i, err)
		}
		for _, pkt := range packets {
			pkt.Timestamp = timestamp
			_ = c.stream.WritePacketRTP(c.video, pkt)
		}
		timestamp += 90000 / ClipFPS
	}
}

// PublishMetadata sends one tt:MetadataStream document on the metadata
// track, split into packets of MetadataPacketSize with the marker bit on
// the last. It does nothing for a camera without the track.
func (c *SimCamera) PublishMetadata(doc []byte, at time.Time) {
	if c.meta == nil || c.opts.Silent {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	timestamp := uint32(at.UnixNano() / 1e9 * 90000)
	for start := 0; start < len(doc); start += c.opts.MetadataPacketSize {
		end := min(start+c.opts.MetadataPacketSize, len(doc))
		pkt := &rtp.Packet{
			Header: rtp.Header{
				Version:        2,
				PayloadType:    107,
				SequenceNumber: c.metaSeq,
				Timestamp:      timestamp,
				Marker:         end == len(doc),
			},
			Payload: doc[start:end],
		}
		c.metaSeq++
		_ = c.stream.WritePacketRTP(c.meta, pkt)
	}
}
