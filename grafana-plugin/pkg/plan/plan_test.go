package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSamplePlans(t *testing.T) {
	for _, mineID := range []string{"320382000101", "320382000202"} {
		path := filepath.Join("..", "..", "..", "deploy", "local", "plans", mineID+".geojson")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading sample plan: %v", err)
		}
		p, err := Parse(path, data, mineID)
		if err != nil {
			t.Fatalf("sample plan %s: %v", mineID, err)
		}
		if p.MineID != mineID {
			t.Errorf("mine id = %q, want %q", p.MineID, mineID)
		}
		if p.Areas == 0 || p.Stations == 0 || p.Tunnels == 0 {
			t.Errorf("plan %s: %d tunnels, %d areas, %d stations; want some of each", mineID, p.Tunnels, p.Areas, p.Stations)
		}
		if len(p.Levels) == 0 {
			t.Errorf("plan %s has no levels", mineID)
		}
	}
}

const validPlan = `{"type":"FeatureCollection","properties":{"mine_id":"320382000101"},"features":[
 {"type":"Feature","properties":{"kind":"tunnel","name":"main","z":-420},
  "geometry":{"type":"LineString","coordinates":[[0,0],[100,0]]}},
 {"type":"Feature","properties":{"kind":"area","area_code":"3203820001010004","area_type":"key","name":"face","z":-420,"limit":16},
  "geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}},
 {"type":"Feature","properties":{"kind":"station","station_code":"3203820001010004000001","name":"s1","z":-420},
  "geometry":{"type":"Point","coordinates":[5,5]}}]}`

func TestParseValid(t *testing.T) {
	p, err := Parse("inline", []byte(validPlan), "320382000101")
	if err != nil {
		t.Fatal(err)
	}
	if p.Tunnels != 1 || p.Areas != 1 || p.Stations != 1 {
		t.Errorf("counts = %d/%d/%d, want 1/1/1", p.Tunnels, p.Areas, p.Stations)
	}
}

func TestParseMalformed(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"not json", `{"type":"FeatureCollection",`, "cannot decode"},
		{"wrong type", `{"type":"Feature","features":[]}`, `type is "Feature"`},
		{"empty", `{"type":"FeatureCollection","features":[]}`, "features is empty"},
		{"mine mismatch", strings.Replace(validPlan, `"mine_id":"320382000101"`, `"mine_id":"320382000202"`, 1),
			"does not match mine 320382000101"},
		{"unknown kind", strings.Replace(validPlan, `"kind":"tunnel"`, `"kind":"shaft"`, 1),
			`feature 0 (shaft main): properties.kind "shaft" is unknown`},
		{"missing kind", strings.Replace(validPlan, `"kind":"tunnel",`, ``, 1), "properties.kind is missing"},
		{"short area code", strings.Replace(validPlan, `"area_code":"3203820001010004"`, `"area_code":"32038200010100"`, 1),
			`area_code "32038200010100" is not 16 digits`},
		{"foreign area code", strings.Replace(validPlan, `"area_code":"3203820001010004"`, `"area_code":"3203820002020004"`, 1),
			"does not start with mine code 320382000101"},
		{"bad area type", strings.Replace(validPlan, `"area_type":"key"`, `"area_type":"face"`, 1), `area_type "face" is unknown`},
		{"open ring", strings.Replace(validPlan, `[[[0,0],[10,0],[10,10],[0,0]]]`, `[[[0,0],[10,0],[10,10],[0,5]]]`, 1),
			"ring 0 is not closed"},
		{"short ring", strings.Replace(validPlan, `[[[0,0],[10,0],[10,10],[0,0]]]`, `[[[0,0],[10,0],[0,0]]]`, 1),
			"ring 0 has 3 positions"},
		{"huge coordinate", strings.Replace(validPlan, `[100,0]`, `[4.5e9,0]`, 1),
			"feature 0 (tunnel main): coordinate 1 [4.5e+09 0]: value 4.5e+09 is beyond 10,000 km"},
		{"point arity", strings.Replace(validPlan, `"coordinates":[5,5]`, `"coordinates":[5]`, 1), "a position has 2 or 3 values"},
		{"station as line", strings.Replace(validPlan, `"type":"Point","coordinates":[5,5]`, `"type":"LineString","coordinates":[[5,5],[6,6]]`, 1),
			"a station is a Point"},
		{"missing z", strings.Replace(validPlan, `"name":"s1","z":-420`, `"name":"s1"`, 1), "station 3203820001010004000001): properties.z is missing"},
		{"string z", strings.Replace(validPlan, `"name":"s1","z":-420`, `"name":"s1","z":"deep"`, 1), `properties.z "deep" is not a number`},
		{"fractional limit", strings.Replace(validPlan, `"limit":16`, `"limit":1.5`, 1), "limit 1.5 is not a non-negative whole number"},
		{"bad level", strings.Replace(validPlan, `"mine_id":"320382000101"`, `"mine_id":"320382000101","levels":[{"name":"L1","z_min":0,"z_max":-10}]`, 1),
			"z_min 0 must be below z_max -10"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("inline", []byte(tc.doc), "320382000101")
			if err == nil {
				t.Fatalf("Parse accepted a malformed plan")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseDuplicateAreaCode(t *testing.T) {
	dup := strings.Replace(validPlan, `"features":[`, `"features":[
 {"type":"Feature","properties":{"kind":"area","area_code":"3203820001010004","area_type":"key","name":"other","z":-420},
  "geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}},`, 1)
	_, err := Parse("inline", []byte(dup), "")
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	if len(verr.Problems) != 1 || verr.Problems[0].Feature != 2 {
		t.Fatalf("problems = %+v, want one on feature 2", verr.Problems)
	}
	if !strings.Contains(verr.Problems[0].Message, "also used by feature 0") {
		t.Errorf("message = %q", verr.Problems[0].Message)
	}
}

func TestParseBoundsProblemList(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range 50 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"type":"Feature","properties":{"kind":"x","z":0},"geometry":{"type":"Point","coordinates":[0,0]}}`)
	}
	b.WriteString("]}")
	_, err := Parse("inline", []byte(b.String()), "")
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	if len(verr.Problems) > maxErrors+1 {
		t.Errorf("%d problems listed, want at most %d", len(verr.Problems), maxErrors+1)
	}
	if last := verr.Problems[len(verr.Problems)-1].Message; !strings.Contains(last, "more problems not listed") {
		t.Errorf("last problem = %q, want the truncation notice", last)
	}
}
