package video

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Config is the video section of mine-exporter.yml: webhook sites that
// post AI events, Frigate instances on MQTT, and the cameras with their
// RTSP streams and event mappings.
type Config struct {
	// StateTimeout ends a state event (belt_running, dispatch_absent...)
	// that got neither an end event nor a refresh for this long. Default
	// 10m. A mapping may set its own.
	StateTimeout time.Duration `yaml:"state_timeout"`

	Webhook  Webhook   `yaml:"webhook"`
	Frigate  []Frigate `yaml:"frigate"`
	Cameras  []Camera  `yaml:"cameras"`
	Defaults Probe     `yaml:"rtsp_defaults"`
}

// Webhook configures the HTTP receiver under /api/v1/video/.
type Webhook struct {
	// MaxBodyBytes bounds one request body, image parts included.
	// Default 1 MiB: an EventNotificationAlert is a few kilobytes, a
	// JPEG snapshot from a 1080p camera about 200 KB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Sites are the senders allowed to post; each authenticates with a
	// bearer token or basic auth and posts for one mine.
	Sites []Site `yaml:"sites"`
}

// Site is one sender of webhook events (a mine's NVR or AI box).
type Site struct {
	Name   string `yaml:"name"`
	MineID string `yaml:"mine_id"`
	// BearerToken, when set, is expected as "Authorization: Bearer ...".
	BearerToken string `yaml:"bearer_token"`
	// Username and Password, when set, are expected as basic auth.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Frigate is one Frigate instance publishing on an MQTT broker.
type Frigate struct {
	MineID string `yaml:"mine_id"`
	// Broker is the MQTT broker URL, such as tcp://127.0.0.1:1883.
	Broker string `yaml:"broker"`
	// ClientID defaults to mine-exporter-video-<mine_id>-<random>, so two
	// exporters on one broker never disconnect each other.
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// TopicPrefix is Frigate's mqtt.topic_prefix. Default "frigate": the
	// source subscribes to frigate/events and frigate/available.
	TopicPrefix string `yaml:"topic_prefix"`
	// QueueSize bounds the messages waiting to be decoded; when it is
	// full new messages are dropped and counted. Default 1024.
	QueueSize int `yaml:"queue_size"`
}

// Camera is one camera or AI channel of a mine.
type Camera struct {
	// ID is the camera label on every metric.
	ID     string `yaml:"id"`
	MineID string `yaml:"mine_id"`
	// Names are the raw names the camera reports under: Hikvision
	// channelName or "<ipAddress>/<channelID>", the Frigate camera name,
	// the camera of our own JSON shape. The ID always matches too.
	Names []string `yaml:"names"`
	// RTSPURL, when set, makes the exporter watch the stream.
	RTSPURL string `yaml:"rtsp_url"`
	Probe   Probe  `yaml:"rtsp"`
	// Events map raw event types, labels and zones to the vocabulary.
	Events []Mapping `yaml:"events"`
}

// Probe sets how a camera's RTSP stream is watched.
type Probe struct {
	// Transport is tcp (interleaved, default) or udp.
	Transport string `yaml:"transport"`
	// Timeout bounds each RTSP request and the wait for the first frame
	// after PLAY. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Window is the period over which frames per second and bitrate are
	// measured. Default 10s.
	Window time.Duration `yaml:"window"`
	// Duration, when set, closes the session after this long and opens
	// the next one Interval later; zero keeps one session open, which
	// the ONVIF metadata track needs.
	Duration time.Duration `yaml:"duration"`
	// Interval is the wait before reconnecting after a failure or a
	// finished sampling session. Default 30s.
	Interval time.Duration `yaml:"interval"`
	// Metadata reads the ONVIF metadata track when the stream has one.
	// Default true.
	Metadata *bool `yaml:"metadata"`
}

// Mapping turns matching raw events into one vocabulary event. Empty
// match fields match anything; comparison ignores case.
type Mapping struct {
	// Type is the Hikvision eventType, the ONVIF rule-engine topic
	// (tns1:RuleEngine/...), or "object" for Frigate and ONVIF objects.
	Type string `yaml:"type"`
	// Label is the object class: Frigate label, Hikvision
	// detectionTarget, ONVIF object class.
	Label string `yaml:"label"`
	// Zone is a Frigate zone, a Hikvision regionID or an ONVIF rule name.
	Zone  string `yaml:"zone"`
	Event string `yaml:"event"`
	// Timeout overrides state_timeout for this state event.
	Timeout time.Duration `yaml:"timeout"`
}

// brokerSchemes are the URL schemes paho.mqtt.golang dials.
var brokerSchemes = []string{"tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss"}

var labelValue = regexp.MustCompile(`^[a-zA-Z0-9_.:-]{1,64}$`)

// SetDefaults fills unset fields with their documented defaults.
func (c *Config) SetDefaults() {
	if c.StateTimeout == 0 {
		c.StateTimeout = 10 * time.Minute
	}
	if c.Webhook.MaxBodyBytes == 0 {
		c.Webhook.MaxBodyBytes = 1 << 20
	}
	for i := range c.Frigate {
		f := &c.Frigate[i]
		if f.TopicPrefix == "" {
			f.TopicPrefix = "frigate"
		}
		if f.QueueSize == 0 {
			f.QueueSize = 1024
		}
	}
	c.Defaults.setDefaults(Probe{Transport: "tcp", Timeout: 10 * time.Second,
		Window: 10 * time.Second, Interval: 30 * time.Second})
	for i := range c.Cameras {
		c.Cameras[i].Probe.setDefaults(c.Defaults)
	}
}

func (p *Probe) setDefaults(d Probe) {
	if p.Transport == "" {
		p.Transport = d.Transport
	}
	if p.Timeout == 0 {
		p.Timeout = d.Timeout
	}
	if p.Window == 0 {
		p.Window = d.Window
	}
	if p.Duration == 0 {
		p.Duration = d.Duration
	}
	if p.Interval == 0 {
		p.Interval = d.Interval
	}
	if p.Metadata == nil {
		on := true
		if d.Metadata != nil {
			on = *d.Metadata
		}
		p.Metadata = &on
	}
}

// Validate returns every invalid field, naming it.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.StateTimeout < time.Second {
		add("state_timeout %s must be at least 1s", c.StateTimeout)
	}
	if c.Webhook.MaxBodyBytes < 4096 {
		add("webhook.max_body_bytes %d must be at least 4096", c.Webhook.MaxBodyBytes)
	}
	siteNames := map[string]bool{}
	for i, s := range c.Webhook.Sites {
		where := fmt.Sprintf("webhook.sites[%d]", i)
		if !labelValue.MatchString(s.Name) {
			add("%s.name %q must be 1 to 64 letters, digits or _.:-", where, s.Name)
		}
		if siteNames[s.Name] {
			add("%s.name %q is used twice", where, s.Name)
		}
		siteNames[s.Name] = true
		if !isMineID(s.MineID) {
			add("%s.mine_id %q must be 12 digits", where, s.MineID)
		}
		if s.BearerToken == "" && s.Username == "" {
			add("%s: set bearer_token or username and password, so the site is authenticated", where)
		}
		if (s.Username == "") != (s.Password == "") {
			add("%s: username and password must be set together", where)
		}
	}
	for i, f := range c.Frigate {
		where := fmt.Sprintf("frigate[%d]", i)
		if !isMineID(f.MineID) {
			add("%s.mine_id %q must be 12 digits", where, f.MineID)
		}
		if u, err := url.Parse(f.Broker); err != nil || u.Host == "" || !slices.Contains(brokerSchemes, u.Scheme) {
			add("%s.broker %q must be a URL such as tcp://127.0.0.1:1883", where, f.Broker)
		}
		if f.QueueSize < 1 {
			add("%s.queue_size %d must be at least 1", where, f.QueueSize)
		}
		if strings.ContainsAny(f.TopicPrefix, "+#") {
			add("%s.topic_prefix %q must not contain MQTT wildcards", where, f.TopicPrefix)
		}
	}
	cameraIDs := map[string]bool{}
	for i, cam := range c.Cameras {
		where := fmt.Sprintf("cameras[%d]", i)
		if !labelValue.MatchString(cam.ID) {
			add("%s.id %q must be 1 to 64 letters, digits or _.:-", where, cam.ID)
		}
		if !isMineID(cam.MineID) {
			add("%s.mine_id %q must be 12 digits", where, cam.MineID)
		}
		key := cam.MineID + "/" + cam.ID
		if cameraIDs[key] {
			add("%s: camera %q of mine %s is listed twice", where, cam.ID, cam.MineID)
		}
		cameraIDs[key] = true
		if cam.RTSPURL != "" {
			if u, err := url.Parse(cam.RTSPURL); err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
				add("%s.rtsp_url %q must be an rtsp:// or rtsps:// URL", where, cam.RTSPURL)
			}
		}
		if err := cam.Probe.validate(); err != nil {
			add("%s.rtsp: %w", where, err)
		}
		for j, m := range cam.Events {
			if !IsVocabulary(m.Event) {
				add("%s.events[%d].event %q is not in the vocabulary: %s", where, j, m.Event,
					strings.Join(Vocabulary, ", "))
			}
			if m.Timeout < 0 {
				add("%s.events[%d].timeout must not be negative", where, j)
			}
		}
	}
	if err := c.Defaults.validate(); err != nil {
		add("rtsp_defaults: %w", err)
	}
	return errors.Join(errs...)
}

func (p *Probe) validate() error {
	var errs []error
	if p.Transport != "tcp" && p.Transport != "udp" {
		errs = append(errs, fmt.Errorf("transport %q must be tcp or udp", p.Transport))
	}
	if p.Timeout < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("timeout %s must be at least 100ms", p.Timeout))
	}
	if p.Window < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("window %s must be at least 100ms", p.Window))
	}
	if p.Duration < 0 || (p.Duration > 0 && p.Duration < p.Window) {
		errs = append(errs, fmt.Errorf("duration %s must be 0 (continuous) or at least the window %s",
			p.Duration, p.Window))
	}
	if p.Interval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("interval %s must be at least 100ms", p.Interval))
	}
	return errors.Join(errs...)
}

func isMineID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
