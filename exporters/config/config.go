// Package config loads mine-exporter.yml. Decoding is strict: an unknown
// key is an error that names the key and its line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/minewatch/minewatch/exporters/national"
	"github.com/minewatch/minewatch/exporters/positioning"
	"github.com/minewatch/minewatch/exporters/power"
	"github.com/minewatch/minewatch/exporters/video"
)

// DefaultListenAddress is the port registered for mine-exporter.
const DefaultListenAddress = ":9761"

// Config is the whole mine-exporter.yml. A nil source section means the
// source does not run.
type Config struct {
	// ListenAddress is the address of the HTTP server. The
	// --web.listen-address flag overrides it.
	ListenAddress string `yaml:"listen_address"`
	// Registry is the path of mines.yaml; the --registry flag overrides it.
	Registry string `yaml:"registry"`

	VictoriaMetrics VictoriaMetrics `yaml:"victoriametrics"`

	National    *national.Config    `yaml:"national"`
	Power       *power.Config       `yaml:"power"`
	Positioning *positioning.Config `yaml:"positioning"`
	Video       *video.Config       `yaml:"video"`
}

// VictoriaMetrics is the destination of samples besides /metrics.
type VictoriaMetrics struct {
	// URL is the base URL of VictoriaMetrics (single-node, or vminsert
	// with its /insert/<tenant>/prometheus path). Sources that write
	// samples with their data time, such as the national files, use its
	// import API. Empty: those samples are only served on /metrics.
	URL string `yaml:"url"`
	// PushURL, when set, receives everything on /metrics every
	// PushInterval, for sites without vmagent. Example:
	// http://vm:8428/api/v1/import/prometheus
	PushURL      string        `yaml:"push_url"`
	PushInterval time.Duration `yaml:"push_interval"`
	// Timeout bounds one write. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Username and Password set basic auth for both URLs.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes config YAML strictly, applies defaults and validates.
// Empty input gives a config with no sources.
func Parse(data []byte) (*Config, error) {
	cfg := &Config{}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil {
			return nil, fmt.Errorf("invalid config: %w", err)
		}
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// SetDefaults fills unset fields with their documented defaults.
func (c *Config) SetDefaults() {
	if c.ListenAddress == "" {
		c.ListenAddress = DefaultListenAddress
	}
	if c.VictoriaMetrics.PushInterval == 0 {
		c.VictoriaMetrics.PushInterval = 15 * time.Second
	}
	if c.VictoriaMetrics.Timeout == 0 {
		c.VictoriaMetrics.Timeout = 10 * time.Second
	}
	if c.National != nil {
		c.National.SetDefaults()
	}
	if c.Power != nil {
		c.Power.SetDefaults()
	}
	if c.Positioning != nil {
		c.Positioning.SetDefaults()
	}
	if c.Video != nil {
		c.Video.SetDefaults()
	}
}

// Validate checks the whole config and returns every problem found.
func (c *Config) Validate() error {
	var errs []error
	for name, u := range map[string]string{"victoriametrics.url": c.VictoriaMetrics.URL,
		"victoriametrics.push_url": c.VictoriaMetrics.PushURL} {
		if u == "" {
			continue
		}
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q must be an http or https URL", name, u))
		}
	}
	if c.VictoriaMetrics.PushInterval < time.Second {
		errs = append(errs, fmt.Errorf("victoriametrics.push_interval must be at least 1s"))
	}
	if c.National != nil {
		if err := c.National.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("national: %w", err))
		}
	}
	if c.Power != nil {
		if err := c.Power.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("power: %w", err))
		}
	}
	if c.Positioning != nil {
		if err := c.Positioning.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("positioning: %w", err))
		}
	}
	if c.Video != nil {
		if err := c.Video.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("video: %w", err))
		}
	}
	return errors.Join(errs...)
}
