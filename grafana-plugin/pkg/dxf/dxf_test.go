package dxf

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func readSample(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/sample-320382000101.dxf")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadPolylines(t *testing.T) {
	polylines, err := Read(readSample(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(polylines) != 5 {
		t.Fatalf("read %d polylines, want 5", len(polylines))
	}

	tunnel := polylines[0]
	if tunnel.Layer != "TUNNEL_MAIN" || tunnel.Closed || len(tunnel.Points) != 3 {
		t.Errorf("tunnel = %+v", tunnel)
	}
	if tunnel.Points[1] != [3]float64{1260, 535, -427.5} {
		t.Errorf("tunnel point 1 = %v, want [1260 535 -427.5]", tunnel.Points[1])
	}

	face := polylines[1]
	if !face.Closed || len(face.Points) != 4 {
		t.Errorf("face closed=%v points=%d, want closed with 4", face.Closed, len(face.Points))
	}

	goaf := polylines[2]
	if goaf.Layer != "AREA_RESTRICTED_3203820001010012" || !goaf.Closed || len(goaf.Points) != 4 {
		t.Errorf("POLYLINE area = %+v", goaf)
	}
	if goaf.Points[0][2] != -450 {
		t.Errorf("2D POLYLINE vertex z = %v, want the polyline elevation -450", goaf.Points[0][2])
	}

	incline := polylines[3]
	if incline.Points[1] != [3]float64{1760, 640, -440} {
		t.Errorf("3D POLYLINE vertex = %v, want its own z", incline.Points[1])
	}
}

func TestImportSample(t *testing.T) {
	res, err := Import("320382000101", readSample(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tunnels != 2 || res.Areas != 2 {
		t.Errorf("imported %d tunnels and %d areas, want 2 and 2", res.Tunnels, res.Areas)
	}
	if len(res.SkippedLayers) != 1 || res.SkippedLayers[0] != "TEXT_FRAME" || res.SkippedEntries != 1 {
		t.Errorf("skipped layers %v (%d entries), want [TEXT_FRAME] (1)", res.SkippedLayers, res.SkippedEntries)
	}

	var doc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
			Geometry   struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(res.GeoJSON, &doc); err != nil {
		t.Fatal(err)
	}
	face := doc.Features[1]
	if face.Properties["area_code"] != "3203820001010004" || face.Properties["area_type"] != "key" {
		t.Errorf("face properties = %v", face.Properties)
	}
	var rings [][][]float64
	if err := json.Unmarshal(face.Geometry.Coordinates, &rings); err != nil {
		t.Fatal(err)
	}
	if n := len(rings[0]); n != 5 {
		t.Errorf("face ring has %d positions, want 5 (closed by repeating the first)", n)
	}
	if face.Properties["z"] != -432.5 {
		t.Errorf("face z = %v, want -432.5", face.Properties["z"])
	}
}

func TestImportCustomRules(t *testing.T) {
	rules := []LayerRule{{Layer: "TEXT_*", Kind: "area", AreaType: "other", AreaCode: "3203820001010020"}}
	res, err := Import("320382000101", readSample(t), rules)
	if err == nil {
		t.Fatalf("open TEXT_FRAME polyline imported as an area: %+v", res)
	}
	if !strings.Contains(err.Error(), `area polyline on layer "TEXT_FRAME" is open`) {
		t.Errorf("error = %v", err)
	}

	if _, err := Import("320382000101", readSample(t), []LayerRule{{Layer: "[", Kind: "tunnel"}}); err == nil ||
		!strings.Contains(err.Error(), `pattern "[" is invalid`) {
		t.Errorf("invalid pattern error = %v", err)
	}
}

func TestReadMalformed(t *testing.T) {
	sample := string(readSample(t))
	cases := []struct {
		name, doc, want string
	}{
		{"binary", "AutoCAD Binary DXF\r\n\x1a\x00", "binary DXF is not supported"},
		{"not dxf", "hello\nworld\n", `line 1: group code "hello" is not an integer`},
		{"truncated", sample[:strings.Index(sample, "AREA_KEY")], "the file is truncated"},
		{"odd lines", "  0\r\nSECTION\r\n  2\r\nENTITIES\r\n  0", "has no value line"},
		{"no entities", "  0\nSECTION\n  2\nHEADER\n  0\nENDSEC\n  0\nEOF\n", "no ENTITIES section"},
		{"no eof", strings.Replace(sample, "EOF", "ENDSEC", 1), "without the closing"},
		{"bad x", strings.Replace(sample, "1040.0", "10x40", 1), `group code 10 value "10x40" is not a number`},
		{"count mismatch", strings.Replace(sample, " 90\r\n3", " 90\r\n4", 1), "declares 4 vertices (group code 90) but has 3"},
		{"no seqend", strings.Replace(sample, "SEQEND\r\n  8\r\nAREA_RESTRICTED", "LINE\r\n  8\r\nAREA_RESTRICTED", 1),
			"is followed by LINE before its SEQEND"},
		{"stray vertex", strings.Replace(sample, "  0\r\nTEXT\r\n", "  0\r\nVERTEX\r\n", 1), "VERTEX outside a POLYLINE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read([]byte(tc.doc))
			if err == nil {
				t.Fatal("Read accepted a malformed drawing")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.want)
			}
			var derr *Error
			if !errors.As(err, &derr) || derr.Line < 1 {
				t.Errorf("error %v carries no line number", err)
			}
		})
	}
}

func TestImportAreaWithoutCode(t *testing.T) {
	sample := strings.Replace(string(readSample(t)), "AREA_KEY_3203820001010004", "AREA_KEY_FACE", 1)
	_, err := Import("320382000101", []byte(sample), nil)
	if err == nil || !strings.Contains(err.Error(), `layer "AREA_KEY_FACE" has no area code`) {
		t.Errorf("error = %v, want the missing area code named", err)
	}
}

func TestImportForeignAreaCode(t *testing.T) {
	_, err := Import("320382000202", readSample(t), nil)
	if err == nil || !strings.Contains(err.Error(), "does not start with mine code 320382000202") {
		t.Errorf("error = %v, want the plan validation to reject another mine's codes", err)
	}
}
