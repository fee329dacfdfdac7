// Package plugin is the backend of the Minewatch app plugin: it serves mine
// plans to the map panel and converts DXF drawings into plans.
package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"

	"github.com/minewatch/minewatch/grafana-plugin/pkg/dxf"
)

var (
	_ backend.CallResourceHandler   = (*App)(nil)
	_ instancemgmt.InstanceDisposer = (*App)(nil)
	_ backend.CheckHealthHandler    = (*App)(nil)
)

// Settings is the app's jsonData, set on its configuration page or in
// provisioning.
type Settings struct {
	// PlansFolder holds one <mine_id>.geojson per mine.
	PlansFolder string `json:"plansFolder"`
	// PlansURL is fetched for mines without a file in PlansFolder;
	// "{mine_id}" in it is replaced by the 12-digit mine code.
	PlansURL string `json:"plansUrl"`
	// DXFLayers maps drawing layers to plan features for the DXF import;
	// empty means dxf.DefaultLayerRules.
	DXFLayers []dxf.LayerRule `json:"dxfLayers"`
}

// ParseSettings decodes and checks the app's jsonData.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &s); err != nil {
			return s, fmt.Errorf("app settings (jsonData) are invalid JSON: %w", err)
		}
	}
	s.PlansFolder = strings.TrimSpace(s.PlansFolder)
	s.PlansURL = strings.TrimSpace(s.PlansURL)
	if s.PlansURL != "" && !strings.HasPrefix(s.PlansURL, "http://") && !strings.HasPrefix(s.PlansURL, "https://") {
		return s, fmt.Errorf("plansUrl %q must start with http:// or https://", s.PlansURL)
	}
	if err := dxf.ValidateRules(s.DXFLayers); err != nil {
		return s, fmt.Errorf("dxfLayers: %w", err)
	}
	return s, nil
}

// App is one instance of the app plugin, per Grafana organisation.
type App struct {
	backend.CallResourceHandler
	settings    Settings
	settingsErr error
	plans       *Store
	logger      log.Logger
	mux         *http.ServeMux
}

// NewApp creates an app instance from its settings. Invalid settings do not
// fail the instance: the health check and every resource report them, so
// the configuration page can still be opened to fix them.
func NewApp(_ context.Context, s backend.AppInstanceSettings) (instancemgmt.Instance, error) {
	settings, err := ParseSettings(s.JSONData)
	a := &App{
		settings:    settings,
		settingsErr: err,
		plans:       NewStore(settings.PlansFolder, settings.PlansURL, &http.Client{Timeout: 15 * time.Second}),
		logger:      log.DefaultLogger,
	}
	a.mux = http.NewServeMux()
	a.registerRoutes(a.mux)
	a.CallResourceHandler = httpadapter.New(a.mux)
	return a, nil
}

// Handler returns the resource API as a plain HTTP handler, for serving it
// without Grafana (the browser test harness).
func (a *App) Handler() http.Handler { return a.mux }

// Dispose is called when the settings change and a new instance replaces this one.
func (a *App) Dispose() {}

// CheckHealth validates the settings and every plan in the plans folder.
func (a *App) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if a.settingsErr != nil {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: a.settingsErr.Error()}, nil
	}
	if a.settings.PlansFolder == "" && a.settings.PlansURL == "" {
		return &backend.CheckHealthResult{
			Status:  backend.HealthStatusError,
			Message: "no plan source: set plansFolder or plansUrl in the app settings",
		}, nil
	}

	var parts []string
	status := backend.HealthStatusOk
	if a.settings.PlansFolder != "" {
		entries, err := a.plans.List(ctx)
		if err != nil {
			return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: err.Error()}, nil
		}
		valid := 0
		for _, e := range entries {
			if e.Error == "" {
				valid++
				continue
			}
			status = backend.HealthStatusError
			parts = append(parts, e.Error)
		}
		parts = append([]string{fmt.Sprintf("%d of %d plans valid in %s", valid, len(entries), a.settings.PlansFolder)}, parts...)
	}
	if a.settings.PlansURL != "" {
		parts = append(parts, "other mines' plans are fetched from "+a.settings.PlansURL)
	}
	return &backend.CheckHealthResult{Status: status, Message: strings.Join(parts, "; ")}, nil
}
