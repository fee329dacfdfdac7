package national

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Actions for a file whose header time lies in the future.
const (
	FutureReject = "reject"
	FutureFlag   = "flag"
)

// Config is the national section of mine-exporter.yml.
type Config struct {
	// Inbox is the folder where mines upload files, one sub-folder per mine.
	Inbox string `yaml:"inbox"`
	// DoneDir receives processed files, one sub-folder per mine.
	// Default <inbox>/done.
	DoneDir string `yaml:"done_dir"`
	// RejectedDir receives rejected files with a <name>.reason file beside
	// each. Default <inbox>/rejected.
	RejectedDir string `yaml:"rejected_dir"`
	// StateDir holds the journal of files already written to
	// VictoriaMetrics, so that a restart never imports a file twice.
	// Default <inbox>/.state.
	StateDir string `yaml:"state_dir"`
	// IncompleteTimeout is how long a file without its closing "||" may
	// keep growing before it is rejected, counted from its last
	// modification. Default 10m.
	IncompleteTimeout time.Duration `yaml:"incomplete_timeout"`
	// FutureTolerance is how far a header time may lie ahead of the
	// exporter's clock before the file counts as dated in the future.
	// Default 5m.
	FutureTolerance time.Duration `yaml:"future_tolerance"`
	// FutureAction is what happens to a file dated in the future: reject
	// (default) moves it to rejected/, flag ingests it and counts it in
	// mine_national_flagged_files_total{flag="header_time_in_future"}.
	FutureAction string `yaml:"future_action"`
	// Encoding is the text encoding of the files: auto (default: UTF-8
	// when the bytes are valid UTF-8, GB18030 otherwise), utf-8, or one of
	// gb18030, gbk, gb2312, which all decode as GB18030.
	Encoding string `yaml:"encoding"`
	// RescanInterval is how often the inbox is listed in full, besides
	// the file system notifications. Default 30s.
	RescanInterval time.Duration `yaml:"rescan_interval"`
	// RetryMin and RetryMax bound the wait between attempts to write a
	// file's samples to VictoriaMetrics; the wait doubles after each
	// failure. Defaults 1s and 1m.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// MaxFileBytes is the largest file that is read; a larger one is
	// rejected before it is read, so that a runaway upload cannot exhaust
	// memory. Default 64 MiB, about 140 times a 3,000-person RYSS file.
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// PlansDir holds mine plans, one <mine_id>.geojson per mine, whose
	// tunnels place each RYSS card at its signed distance from its
	// station. Empty (default): cards stay at their stations' RYJZ
	// coordinates.
	PlansDir string `yaml:"plans_dir"`
	// PlanToleranceMeters is how far a station may lie from the nearest
	// tunnel of its mine's plan and still be placed on it. Default 5.
	PlanToleranceMeters float64 `yaml:"plan_tolerance_meters"`
}

// SetDefaults fills unset fields with their documented defaults.
func (c *Config) SetDefaults() {
	if c.IncompleteTimeout == 0 {
		c.IncompleteTimeout = 10 * time.Minute
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = 64 << 20
	}
	if c.FutureTolerance == 0 {
		c.FutureTolerance = 5 * time.Minute
	}
	if c.FutureAction == "" {
		c.FutureAction = FutureReject
	}
	if c.Encoding == "" {
		c.Encoding = "auto"
	}
	if c.RescanInterval == 0 {
		c.RescanInterval = 30 * time.Second
	}
	if c.RetryMin == 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = time.Minute
	}
	if c.PlanToleranceMeters == 0 {
		c.PlanToleranceMeters = 5
	}
}

// The folder defaults depend on the inbox, which the --national.inbox flag
// may set after SetDefaults ran, so they are resolved when used.

func (c *Config) doneDir() string {
	if c.DoneDir != "" {
		return c.DoneDir
	}
	return filepath.Join(c.Inbox, "done")
}

func (c *Config) rejectedDir() string {
	if c.RejectedDir != "" {
		return c.RejectedDir
	}
	return filepath.Join(c.Inbox, "rejected")
}

func (c *Config) stateDir() string {
	if c.StateDir != "" {
		return c.StateDir
	}
	return filepath.Join(c.Inbox, ".state")
}

// Validate reports invalid fields.
func (c *Config) Validate() error {
	var errs []error
	if c.Inbox == "" {
		errs = append(errs, errors.New("inbox is missing: set national.inbox or --national.inbox"))
	}
	if c.FutureAction != FutureReject && c.FutureAction != FutureFlag {
		errs = append(errs, fmt.Errorf("future_action %q is invalid: use %s or %s",
			c.FutureAction, FutureReject, FutureFlag))
	}
	if _, err := decoderFor(c.Encoding); err != nil {
		errs = append(errs, err)
	}
	if c.IncompleteTimeout < 0 || c.FutureTolerance < 0 {
		errs = append(errs, errors.New("incomplete_timeout and future_tolerance must not be negative"))
	}
	if c.MaxFileBytes < 0 {
		errs = append(errs, fmt.Errorf("max_file_bytes %d must not be negative", c.MaxFileBytes))
	}
	if c.RescanInterval < 100*time.Millisecond {
		errs = append(errs, errors.New("rescan_interval must be at least 100ms"))
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		errs = append(errs, errors.New("retry_min must be positive and retry_max at least retry_min"))
	}
	if c.PlanToleranceMeters < 0 {
		errs = append(errs, fmt.Errorf("plan_tolerance_meters %v must not be negative", c.PlanToleranceMeters))
	}
	if c.PlansDir != "" {
		if info, err := os.Stat(c.PlansDir); err != nil {
			errs = append(errs, fmt.Errorf("plans_dir is invalid (%w): set it to the folder of <mine_id>.geojson plans or leave it empty", err))
		} else if !info.IsDir() {
			errs = append(errs, fmt.Errorf("plans_dir %s is not a folder", c.PlansDir))
		}
	}
	return errors.Join(errs...)
}
