package video

// Config is the video section of mine-exporter.yml.
// TODO: the video source fills in its fields, defaults and validation.
type Config struct{}

// SetDefaults fills unset fields with their documented defaults.
func (c *Config) SetDefaults() {}

// Validate reports the first invalid field, naming it.
func (c *Config) Validate() error { return nil }
