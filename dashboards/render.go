package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// All returns the builders of every Minewatch dashboard.
func All() []*dashboard.DashboardBuilder {
	return []*dashboard.DashboardBuilder{Overview(), Mine()}
}

// Render builds a dashboard and returns its JSON, indented, with a final
// newline. Panels get ids 1, 2, ... in layout order, because Grafana
// needs an id per panel and the SDK leaves them unset.
func Render(b *dashboard.DashboardBuilder) (uid string, data []byte, err error) {
	d, err := b.Build()
	if err != nil {
		return "", nil, fmt.Errorf("cannot build dashboard: %w", err)
	}
	if d.Uid == nil || *d.Uid == "" {
		return "", nil, fmt.Errorf("dashboard %q has no uid", deref(d.Title))
	}

	var id uint32
	nextID := func() *uint32 {
		id++
		v := id
		return &v
	}
	for _, p := range d.Panels {
		if p.Panel != nil {
			p.Panel.Id = nextID()
		}
		if p.RowPanel != nil {
			p.RowPanel.Id = *nextID()
			for i := range p.RowPanel.Panels {
				p.RowPanel.Panels[i].Id = nextID()
			}
		}
	}

	// The SDK puts every link into Grafana's controls menu (placement
	// inControlsMenu). Without a placement, Grafana shows the links above
	// the panels, where readers look for them.
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for _, p := range d.Panels {
		if p.Panel != nil {
			for i := range p.Panel.Links {
				p.Panel.Links[i].Placement = nil
			}
		}
	}

	data, err = json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("cannot encode dashboard %s: %w", *d.Uid, err)
	}
	return *d.Uid, append(data, '\n'), nil
}

// WriteAll renders every dashboard into dir as <uid>.json and returns the
// file paths.
func WriteAll(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create output folder %s: %w", dir, err)
	}
	var paths []string
	for _, b := range All() {
		uid, data, err := Render(b)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, uid+".json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("cannot write dashboard %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
