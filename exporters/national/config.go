package national

import (
	"errors"
	"time"
)

// Config is the national section of mine-exporter.yml.
// TODO: the national source adds its remaining fields and defaults.
type Config struct {
	// Inbox is the folder where mines upload files, one sub-folder per mine.
	Inbox string `yaml:"inbox"`
	// IncompleteTimeout is how long a file without its closing "||" may
	// keep growing before it is rejected. Default 10m.
	IncompleteTimeout time.Duration `yaml:"incomplete_timeout"`
}

// SetDefaults fills unset fields with their documented defaults.
func (c *Config) SetDefaults() {
	if c.IncompleteTimeout == 0 {
		c.IncompleteTimeout = 10 * time.Minute
	}
}

// Validate reports invalid fields.
func (c *Config) Validate() error {
	if c.Inbox == "" {
		return errors.New("inbox is missing")
	}
	return nil
}
