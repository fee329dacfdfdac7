package positioning

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Defaults of the positioning section.
const (
	DefaultClientID          = "minewatch-positioning"
	DefaultQoS               = 1
	DefaultKeepAlive         = 30 * time.Second
	DefaultConnectTimeout    = 10 * time.Second
	DefaultQueueSize         = 65536
	DefaultTagExpiry         = 2 * time.Minute
	DefaultMaxTags           = 100000
	DefaultLowBatteryPercent = 20
	DefaultGridCellMeters    = 50
)

// Config is the positioning section of mine-exporter.yml: one MQTT broker
// that UWB positioning systems publish tag updates to.
type Config struct {
	// Broker is the broker URL: tcp://host:1883, or ssl://host:8883 for TLS.
	Broker string `yaml:"broker"`
	// ClientID is fixed so that the broker keeps the persistent session
	// (clean session false) across reconnects. Default minewatch-positioning.
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// TLS configures the broker connection's TLS. Setting it without a
	// client certificate authenticates the broker only.
	TLS *TLSConfig `yaml:"tls"`
	// QoS of the subscriptions, 0 or 1. Default 1.
	QoS *byte `yaml:"qos"`
	// CleanSession starts a new session on every connect. Default false,
	// so QoS 1 messages published while the exporter was away are kept.
	CleanSession bool `yaml:"clean_session"`
	// KeepAlive is the MQTT keepalive interval. Default 30s.
	KeepAlive time.Duration `yaml:"keep_alive"`
	// ConnectTimeout bounds one connection attempt. Default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`

	// Topics lists the topic patterns to subscribe to, each with its
	// field mapping. At least one is required.
	Topics []Topic `yaml:"topics"`

	// QueueSize is the number of received messages that wait for decoding.
	// A message that finds the queue full is dropped and counted, so the
	// MQTT client's network loop never waits. Default 65536.
	QueueSize int `yaml:"queue_size"`
	// TagExpiry is how long a tag stays in the live state after its last
	// message; then its series stop. Default 2m.
	TagExpiry time.Duration `yaml:"tag_expiry"`
	// MaxTags caps the number of live tags over all mines; updates of new
	// tags beyond it are rejected and counted. Default 100000.
	MaxTags int `yaml:"max_tags"`
	// LowBatteryPercent is the battery level under which a tag counts as
	// low in mine_tags_low_battery. Default 20.
	LowBatteryPercent float64 `yaml:"low_battery_percent"`
	// PlansDir holds the mine plans, one <mine_id>.geojson per mine, for
	// area polygons and their limits. Empty: areas only from messages.
	PlansDir string `yaml:"plans_dir"`
	// GridCellMeters is the cell size of the spatial index that finds the
	// nearest person to each vehicle. Default 50.
	GridCellMeters float64 `yaml:"grid_cell_meters"`
	// Equipment lists the registered positions of equipment tags.
	// Displacement is reported only for equipment listed here.
	Equipment []Equipment `yaml:"equipment"`
}

// TLSConfig is the client side of a TLS connection to the broker.
type TLSConfig struct {
	// CAFile is the PEM file of the CA that signed the broker's
	// certificate. Empty: the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate and key, for brokers
	// that require client certificates. Both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the broker's certificate.
	ServerName string `yaml:"server_name"`
}

// Topic is one subscription and how to read its messages.
type Topic struct {
	// Pattern is an MQTT topic filter in which whole levels may be named
	// {mine_id} or {tag_id}; those levels subscribe as + and give the
	// ids. Example: mine/{mine_id}/uwb/tag/{tag_id}.
	Pattern string `yaml:"pattern"`
	// MineID fixes the mine for every message of this topic, for brokers
	// that serve one mine.
	MineID string `yaml:"mine_id"`
	// Fields maps the payload's JSON paths (gjson syntax) to tag fields.
	// Unset fields take the defaults of the sample UWB format.
	Fields Fields `yaml:"fields"`
	// Kinds maps vendor kind values to person, vehicle or equipment.
	// person, vehicle and equipment always map to themselves.
	Kinds map[string]string `yaml:"kinds"`

	levels []string
}

// Fields are gjson paths into a message payload.
type Fields struct {
	MineID string `yaml:"mine_id"`
	TagID  string `yaml:"tag_id"`
	Kind   string `yaml:"kind"`
	X      string `yaml:"x"`
	Y      string `yaml:"y"`
	Z      string `yaml:"z"`
	Area   string `yaml:"area"`
	// Time is an RFC 3339 string, or Unix time as a number in seconds or
	// milliseconds. A missing time means the time of receipt.
	Time    string `yaml:"time"`
	Battery string `yaml:"battery"`
	SOS     string `yaml:"sos"`
}

// Equipment is the registered position of one equipment tag.
type Equipment struct {
	MineID string  `yaml:"mine_id"`
	Tag    string  `yaml:"tag"`
	X      float64 `yaml:"x"`
	Y      float64 `yaml:"y"`
	Z      float64 `yaml:"z"`
}

var (
	mineIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	kindValues    = []string{KindPerson, KindVehicle, KindEquipment}
)

// SetDefaults fills unset fields with their documented defaults.
func (c *Config) SetDefaults() {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.QoS == nil {
		q := byte(DefaultQoS)
		c.QoS = &q
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.TagExpiry == 0 {
		c.TagExpiry = DefaultTagExpiry
	}
	if c.MaxTags == 0 {
		c.MaxTags = DefaultMaxTags
	}
	if c.LowBatteryPercent == 0 {
		c.LowBatteryPercent = DefaultLowBatteryPercent
	}
	if c.GridCellMeters == 0 {
		c.GridCellMeters = DefaultGridCellMeters
	}
	for i := range c.Topics {
		c.Topics[i].Fields.setDefaults()
	}
}

func (f *Fields) setDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&f.TagID, "tagId")
	def(&f.Kind, "type")
	def(&f.X, "x")
	def(&f.Y, "y")
	def(&f.Z, "z")
	def(&f.Area, "areaCode")
	def(&f.Time, "ts")
	def(&f.Battery, "battery")
	def(&f.SOS, "sos")
}

// Validate returns every invalid field, each named.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	u, err := url.Parse(c.Broker)
	switch {
	case c.Broker == "":
		add("broker is missing, for example tcp://127.0.0.1:1883")
	case err != nil || u.Host == "":
		add("broker %q is not a URL such as tcp://127.0.0.1:1883", c.Broker)
	case !strings.Contains("tcp ssl tls mqtt mqtts", u.Scheme):
		add("broker %q: scheme must be tcp, mqtt, ssl, tls or mqtts", c.Broker)
	}
	if c.TLS != nil && (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls.cert_file and tls.key_file must be set together")
	}
	if c.QoS != nil && *c.QoS > 1 {
		add("qos %d is invalid, expected 0 or 1", *c.QoS)
	}
	if c.KeepAlive < time.Second {
		add("keep_alive must be at least 1s")
	}
	if c.QueueSize < 1 {
		add("queue_size must be positive")
	}
	if c.TagExpiry < time.Second {
		add("tag_expiry must be at least 1s")
	}
	if c.MaxTags < 1 {
		add("max_tags must be positive")
	}
	if c.LowBatteryPercent < 0 || c.LowBatteryPercent > 100 {
		add("low_battery_percent must be between 0 and 100")
	}
	if c.GridCellMeters <= 0 {
		add("grid_cell_meters must be positive")
	}
	if len(c.Topics) == 0 {
		add("topics is empty: add at least one pattern, for example mine/{mine_id}/uwb/tag/{tag_id}")
	}
	for i := range c.Topics {
		if err := c.Topics[i].compile(); err != nil {
			add("topics[%d]: %w", i, err)
		}
	}
	for i, e := range c.Equipment {
		if !mineIDPattern.MatchString(e.MineID) {
			add("equipment[%d].mine_id %q must be 12 digits", i, e.MineID)
		}
		if e.Tag == "" {
			add("equipment[%d].tag is missing", i)
		}
	}
	return errors.Join(errs...)
}

// compile checks the pattern and splits it into levels.
func (t *Topic) compile() error {
	if t.Pattern == "" {
		return errors.New("pattern is missing")
	}
	if t.MineID != "" && !mineIDPattern.MatchString(t.MineID) {
		return fmt.Errorf("mine_id %q must be 12 digits", t.MineID)
	}
	t.levels = strings.Split(t.Pattern, "/")
	hasMine, hasTag := t.MineID != "" || t.Fields.MineID != "", t.Fields.TagID != ""
	for i, l := range t.levels {
		switch {
		case l == "{mine_id}":
			hasMine = true
		case l == "{tag_id}":
			hasTag = true
		case l == "#" && i != len(t.levels)-1:
			return fmt.Errorf("pattern %q: # must be the last level", t.Pattern)
		case l != "+" && l != "#" && strings.ContainsAny(l, "+#{}"):
			return fmt.Errorf("pattern %q: level %q must be a name, +, #, {mine_id} or {tag_id}", t.Pattern, l)
		}
	}
	if !hasMine {
		return fmt.Errorf("pattern %q gives no mine id: add a {mine_id} level, mine_id or fields.mine_id", t.Pattern)
	}
	if !hasTag {
		return fmt.Errorf("pattern %q gives no tag id: add a {tag_id} level or fields.tag_id", t.Pattern)
	}
	for vendor, kind := range t.Kinds {
		if !contains(kindValues, kind) {
			return fmt.Errorf("kinds[%s] = %q, expected person, vehicle or equipment", vendor, kind)
		}
	}
	return nil
}

// Filter returns the subscription filter: named levels become +.
func (t *Topic) Filter() string {
	out := make([]string, len(t.levels))
	for i, l := range t.levels {
		if strings.HasPrefix(l, "{") {
			l = "+"
		}
		out[i] = l
	}
	return strings.Join(out, "/")
}

// match reports whether topic matches the pattern and returns the mine
// and tag ids taken from named levels (empty when the pattern has none).
func (t *Topic) match(topic string) (mineID, tagID string, ok bool) {
	parts := strings.Split(topic, "/")
	for i, l := range t.levels {
		if l == "#" {
			return mineID, tagID, true
		}
		if i >= len(parts) {
			return "", "", false
		}
		switch l {
		case "+":
		case "{mine_id}":
			mineID = parts[i]
		case "{tag_id}":
			tagID = parts[i]
		default:
			if l != parts[i] {
				return "", "", false
			}
		}
	}
	if len(parts) != len(t.levels) {
		return "", "", false
	}
	return mineID, tagID, true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
