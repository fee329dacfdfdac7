package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/minewatch/minewatch/grafana-plugin/pkg/dxf"
	"github.com/minewatch/minewatch/grafana-plugin/pkg/plan"
)

// maxDXFBytes bounds an uploaded drawing; Grafana's own request limits may
// be lower.
const maxDXFBytes = 64 << 20

// registerRoutes maps the resource API, served by Grafana under
// /api/plugins/<app id>/resources/.
func (a *App) registerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /plans", a.handleListPlans)
	mux.HandleFunc("GET /plans/{mine_id}", a.handleGetPlan)
	mux.HandleFunc("POST /plans/{mine_id}/import-dxf", a.handleImportDXF)
}

type errorBody struct {
	Error    string         `json:"error"`
	Problems []plan.Problem `json:"problems,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *App) writeError(w http.ResponseWriter, status int, err error) {
	body := errorBody{Error: err.Error()}
	var verr *plan.ValidationError
	if errors.As(err, &verr) {
		body.Problems = verr.Problems
	}
	writeJSON(w, status, body)
}

func (a *App) handleListPlans(w http.ResponseWriter, r *http.Request) {
	if a.settingsErr != nil {
		a.writeError(w, http.StatusInternalServerError, a.settingsErr)
		return
	}
	entries, err := a.plans.List(r.Context())
	if err != nil {
		a.logger.Error("Listing plans failed", "error", err, "plans_folder", a.settings.PlansFolder)
		a.writeError(w, http.StatusInternalServerError, err)
		return
	}
	if entries == nil {
		entries = []Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"plans": entries})
}

func (a *App) handleGetPlan(w http.ResponseWriter, r *http.Request) {
	if a.settingsErr != nil {
		a.writeError(w, http.StatusInternalServerError, a.settingsErr)
		return
	}
	mineID := r.PathValue("mine_id")
	p, err := a.plans.Get(r.Context(), mineID)
	var verr *plan.ValidationError
	switch {
	case err == nil:
	case !mineIDPattern.MatchString(mineID):
		a.writeError(w, http.StatusBadRequest, err)
		return
	case errors.Is(err, ErrPlanNotFound):
		a.writeError(w, http.StatusNotFound, err)
		return
	case errors.As(err, &verr):
		a.logger.Warn("Mine plan is invalid", "mine_id", mineID, "error", err)
		a.writeError(w, http.StatusUnprocessableEntity, err)
		return
	default:
		a.logger.Error("Loading mine plan failed", "mine_id", mineID, "error", err)
		a.writeError(w, http.StatusBadGateway, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p.Raw)
}

func (a *App) handleImportDXF(w http.ResponseWriter, r *http.Request) {
	if a.settingsErr != nil {
		a.writeError(w, http.StatusInternalServerError, a.settingsErr)
		return
	}
	mineID := r.PathValue("mine_id")
	if !mineIDPattern.MatchString(mineID) {
		a.writeError(w, http.StatusBadRequest, fmt.Errorf("mine id %q is not a 12-digit mine code", mineID))
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxDXFBytes+1))
	if err != nil {
		a.writeError(w, http.StatusBadRequest, fmt.Errorf("reading the DXF upload failed: %w", err))
		return
	}
	if len(data) > maxDXFBytes {
		a.writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("DXF upload is larger than %d bytes", maxDXFBytes))
		return
	}
	res, err := dxf.Import(mineID, data, a.settings.DXFLayers)
	if err != nil {
		a.logger.Warn("DXF import failed", "mine_id", mineID, "error", err)
		a.writeError(w, http.StatusBadRequest, fmt.Errorf("DXF import for mine %s failed: %w", mineID, err))
		return
	}
	a.logger.Info("DXF imported", "mine_id", mineID, "tunnels", res.Tunnels, "areas", res.Areas,
		"skipped_entries", res.SkippedEntries)
	writeJSON(w, http.StatusOK, res)
}
