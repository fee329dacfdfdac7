package sim

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minewatch/minewatch/exporters/national"
)

// TestReplayReadsBackWithExporterParser parses every replayed file with
// mine-exporter's own parser: names, headers, record field counts and
// data times must all be what the exporter accepts.
func TestReplayReadsBackWithExporterParser(t *testing.T) {
	for _, mineID := range []string{"320382000101", "320382000202"} {
		t.Run(mineID, func(t *testing.T) {
			r, dir := newTestReplay(t, `
mines:
  - mine_id: "`+mineID+`"
    national:
      samples: SAMPLES
      interval: 1m
`, mineID)
			start := time.Date(2026, 12, 4, 10, 0, 0, 0, chinaStandardTime)
			runFake(t, r, start, 6, 5*time.Minute)

			names := listNames(t, dir)
			if len(names) < 6*3 {
				t.Fatalf("only %d files written: %v", len(names), names)
			}
			for _, name := range names {
				fn, err := national.ParseFileName(name)
				if err != nil {
					t.Errorf("%s: name rejected: %v", name, err)
					continue
				}
				raw, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				f, err := national.Parse(fn, raw, nil)
				if err != nil {
					t.Errorf("%s: rejected: %v", name, err)
					continue
				}
				if f.DroppedFieldCount != 0 {
					t.Errorf("%s: %d records with a wrong field count, first: %s", name, f.DroppedFieldCount, f.FirstDrop)
				}
				if len(f.Records) == 0 {
					t.Errorf("%s: no records", name)
				}
				if !f.HeaderTime.Equal(fn.Time) {
					t.Errorf("%s: header time %s differs from the name's %s", name, f.HeaderTime, fn.Time)
				}
				if f.HeaderTime.After(start.Add(6 * time.Minute)) {
					t.Errorf("%s: header time %s is after the replay's present", name, f.HeaderTime)
				}
			}
		})
	}
}
