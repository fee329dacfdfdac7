package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

type responseRecorder struct {
	response *backend.CallResourceResponse
}

func (r *responseRecorder) Send(resp *backend.CallResourceResponse) error {
	r.response = resp
	return nil
}

func samplePlan(t *testing.T, mineID string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "local", "plans", mineID+".geojson"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func newTestApp(t *testing.T, jsonData string) *App {
	t.Helper()
	inst, err := NewApp(context.Background(), backend.AppInstanceSettings{JSONData: json.RawMessage(jsonData)})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*App)
}

func call(t *testing.T, app *App, method, path string, body []byte) (int, []byte) {
	t.Helper()
	rec := &responseRecorder{}
	err := app.CallResource(context.Background(), &backend.CallResourceRequest{
		Method: method, Path: path, URL: path, Body: body,
	}, rec)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if rec.response == nil {
		t.Fatalf("%s %s: no response sent", method, path)
	}
	return rec.response.Status, rec.response.Body
}

// plansFolder holds the two sample plans, a malformed plan and a file
// whose name is not a mine code.
func plansFolder(t *testing.T) string {
	dir := t.TempDir()
	for _, id := range []string{"320382000101", "320382000202"} {
		if err := os.WriteFile(filepath.Join(dir, id+".geojson"), samplePlan(t, id), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	broken := strings.Replace(string(samplePlan(t, "320382000101")), `"area_type": "restricted"`, `"area_type": "forbidden"`, 1)
	broken = strings.Replace(broken, "320382000101", "320382000303", -1)
	if err := os.WriteFile(filepath.Join(dir, "320382000303.geojson"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine-a.geojson"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestGetPlanFromFolder(t *testing.T) {
	app := newTestApp(t, `{"plansFolder":`+jsonString(plansFolder(t))+`}`)
	status, body := call(t, app, http.MethodGet, "plans/320382000101", nil)
	if status != http.StatusOK {
		t.Fatalf("status = %d, body %s", status, body)
	}
	if string(body) != string(samplePlan(t, "320382000101")) {
		t.Errorf("served plan differs from the file")
	}
}

func TestGetPlanMalformed(t *testing.T) {
	app := newTestApp(t, `{"plansFolder":`+jsonString(plansFolder(t))+`}`)
	status, body := call(t, app, http.MethodGet, "plans/320382000303", nil)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("status = %d, want 422; body %s", status, body)
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Problems) != 1 {
		t.Fatalf("problems = %+v, want exactly one", e.Problems)
	}
	p := e.Problems[0]
	if p.Ref != "area 3203820003030012" || !strings.Contains(p.Message, `area_type "forbidden" is unknown`) {
		t.Errorf("problem = %+v, want the restricted area and its area_type named", p)
	}
	if !strings.Contains(e.Error, "320382000303.geojson") {
		t.Errorf("error %q does not name the file", e.Error)
	}
}

func TestGetPlanErrors(t *testing.T) {
	app := newTestApp(t, `{"plansFolder":`+jsonString(plansFolder(t))+`}`)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"plans/320382000999", http.StatusNotFound, "add 320382000999.geojson there"},
		{"plans/..%2Fetc", http.StatusBadRequest, "not a 12-digit mine code"},
		{"plans/12345", http.StatusBadRequest, "not a 12-digit mine code"},
	} {
		status, body := call(t, app, http.MethodGet, tc.path, nil)
		if status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s = %d %s, want %d with %q", tc.path, status, body, tc.status, tc.want)
		}
	}
}

func TestListPlans(t *testing.T) {
	app := newTestApp(t, `{"plansFolder":`+jsonString(plansFolder(t))+`}`)
	status, body := call(t, app, http.MethodGet, "plans", nil)
	if status != http.StatusOK {
		t.Fatalf("status = %d, body %s", status, body)
	}
	var list struct{ Plans []Entry }
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Plans) != 4 {
		t.Fatalf("listed %d plans, want 4: %+v", len(list.Plans), list.Plans)
	}
	byID := map[string]Entry{}
	for _, e := range list.Plans {
		byID[e.MineID] = e
	}
	if e := byID["320382000101"]; e.Error != "" || e.Areas != 5 || e.Stations != 10 {
		t.Errorf("mine 320382000101 = %+v, want valid with 5 areas and 10 stations", e)
	}
	if e := byID["320382000303"]; !strings.Contains(e.Error, "forbidden") {
		t.Errorf("malformed plan listed as %+v", e)
	}
	if e := byID["mine-a"]; !strings.Contains(e.Error, "12-digit mine code") {
		t.Errorf("badly named file listed as %+v", e)
	}
}

func TestGetPlanFromURL(t *testing.T) {
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		switch r.URL.Path {
		case "/plans/320382000202.geojson":
			_, _ = w.Write(samplePlan(t, "320382000202"))
		case "/plans/320382000404.geojson":
			_, _ = w.Write([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature"`))
		case "/plans/320382000505.geojson":
			http.Error(w, "backend down", http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	// The folder has only mine 320382000101, so other mines come from the URL.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "320382000101.geojson"), samplePlan(t, "320382000101"), 0o644); err != nil {
		t.Fatal(err)
	}
	app := newTestApp(t, `{"plansFolder":`+jsonString(dir)+`,"plansUrl":"`+srv.URL+`/plans/{mine_id}.geojson"}`)

	if status, body := call(t, app, http.MethodGet, "plans/320382000101", nil); status != http.StatusOK {
		t.Errorf("folder plan: %d %s", status, body)
	}
	if requests != 0 {
		t.Errorf("a plan in the folder was also fetched from the URL")
	}
	status, body := call(t, app, http.MethodGet, "plans/320382000202", nil)
	if status != http.StatusOK || string(body) != string(samplePlan(t, "320382000202")) {
		t.Errorf("URL plan: %d %.200s", status, body)
	}
	status, body = call(t, app, http.MethodGet, "plans/320382000404", nil)
	if status != http.StatusBadGateway || !strings.Contains(string(body), "cannot decode mine plan") {
		t.Errorf("truncated URL plan: %d %s", status, body)
	}
	status, body = call(t, app, http.MethodGet, "plans/320382000505", nil)
	if status != http.StatusBadGateway || !strings.Contains(string(body), "503") {
		t.Errorf("failing URL: %d %s", status, body)
	}
	status, _ = call(t, app, http.MethodGet, "plans/320382000606", nil)
	if status != http.StatusNotFound {
		t.Errorf("URL 404: status %d, want 404", status)
	}
}

func TestImportDXFResource(t *testing.T) {
	app := newTestApp(t, `{"plansFolder":`+jsonString(t.TempDir())+`}`)
	drawing, err := os.ReadFile("../dxf/testdata/sample-320382000101.dxf")
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, app, http.MethodPost, "plans/320382000101/import-dxf", drawing)
	if status != http.StatusOK {
		t.Fatalf("status = %d, body %s", status, body)
	}
	var res struct {
		GeoJSON       json.RawMessage `json:"geojson"`
		Tunnels       int             `json:"tunnels"`
		Areas         int             `json:"areas"`
		SkippedLayers []string        `json:"skipped_layers"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Tunnels != 2 || res.Areas != 2 || len(res.GeoJSON) == 0 {
		t.Errorf("import = %d tunnels, %d areas, %d bytes of GeoJSON", res.Tunnels, res.Areas, len(res.GeoJSON))
	}

	status, body = call(t, app, http.MethodPost, "plans/320382000101/import-dxf", drawing[:len(drawing)/2])
	if status != http.StatusBadRequest || !strings.Contains(string(body), "DXF line") {
		t.Errorf("truncated DXF: %d %s, want 400 naming the line", status, body)
	}
}

func TestCheckHealth(t *testing.T) {
	for _, tc := range []struct {
		name, jsonData string
		status         backend.HealthStatus
		want           string
	}{
		{"valid", `{"plansFolder":` + jsonString(sampleOnlyFolder(t)) + `}`, backend.HealthStatusOk, "2 of 2 plans valid"},
		{"malformed plan", `{"plansFolder":` + jsonString(plansFolder(t)) + `}`, backend.HealthStatusError, "forbidden"},
		{"no source", `{}`, backend.HealthStatusError, "no plan source"},
		{"missing folder", `{"plansFolder":"/nonexistent/plans"}`, backend.HealthStatusError, "cannot read plans folder /nonexistent/plans"},
		{"bad url", `{"plansUrl":"ftp://gis/plans"}`, backend.HealthStatusError, "must start with http://"},
		{"bad layers", `{"plansUrl":"http://127.0.0.1/x","dxfLayers":[{"layer":"A*","kind":"area"}]}`, backend.HealthStatusError, "needs area_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t, tc.jsonData)
			res, err := app.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || !strings.Contains(res.Message, tc.want) {
				t.Errorf("health = %v %q, want %v with %q", res.Status, res.Message, tc.status, tc.want)
			}
		})
	}
}

func sampleOnlyFolder(t *testing.T) string {
	dir := t.TempDir()
	for _, id := range []string{"320382000101", "320382000202"} {
		if err := os.WriteFile(filepath.Join(dir, id+".geojson"), samplePlan(t, id), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
