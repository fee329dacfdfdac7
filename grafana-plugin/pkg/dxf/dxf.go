// Package dxf reads the polylines of an ASCII DXF drawing (LWPOLYLINE and
// POLYLINE with its VERTEX entities) and turns them into a mine plan by
// mapping layer names to feature kinds.
//
// An ASCII DXF file is a sequence of line pairs: an integer group code,
// then its value. Entities sit in the ENTITIES section, each starting with
// group code 0 and its type name. Group codes read here: 8 layer, 10/20/30
// x/y/z, 38 LWPOLYLINE elevation, 70 flags (bit 1 closed, bit 16 and 64
// meshes), 90 LWPOLYLINE vertex count, 42 bulge.
package dxf

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Polyline is one polyline of the drawing, in drawing units.
type Polyline struct {
	Layer  string
	Closed bool
	Points [][3]float64 // x, y, z
	Line   int          // line of the entity's "0" group code in the file
	Bulged bool         // arcs (bulge values) were read as straight segments
}

// Error is a malformed part of a DXF file, with its line number.
type Error struct {
	Line    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("DXF line %d: %s", e.Line, e.Message)
}

type pair struct {
	code  int
	value string
	line  int // line of the group code
}

type reader struct {
	scanner *bufio.Scanner
	line    int
	peeked  *pair
}

func (r *reader) next() (pair, error) {
	if r.peeked != nil {
		p := *r.peeked
		r.peeked = nil
		return p, nil
	}
	if !r.scanner.Scan() {
		if err := r.scanner.Err(); err != nil {
			return pair{}, fmt.Errorf("cannot read DXF after line %d: %w", r.line, err)
		}
		return pair{}, io.EOF
	}
	r.line++
	codeLine := r.line
	codeText := strings.TrimSpace(r.scanner.Text())
	code, err := strconv.Atoi(codeText)
	if err != nil {
		return pair{}, &Error{Line: codeLine, Message: fmt.Sprintf("group code %q is not an integer; is this an ASCII DXF file?", codeText)}
	}
	if !r.scanner.Scan() {
		return pair{}, &Error{Line: codeLine, Message: fmt.Sprintf("group code %d has no value line: the file is truncated", code)}
	}
	r.line++
	return pair{code: code, value: strings.TrimSpace(r.scanner.Text()), line: codeLine}, nil
}

func (r *reader) unread(p pair) { r.peeked = &p }

// Read returns the polylines of the ENTITIES section of an ASCII DXF file.
// Binary DXF, truncated files, bad numbers and vertex counts that do not
// match return an *Error naming the line.
func Read(data []byte) ([]Polyline, error) {
	if bytes.HasPrefix(data, []byte("AutoCAD Binary DXF")) {
		return nil, &Error{Line: 1, Message: "binary DXF is not supported; save the drawing as ASCII DXF"}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	r := &reader{scanner: sc}

	var polylines []Polyline
	inEntities, sawEntities, sawEOF := false, false, false
	for {
		p, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if p.code != 0 {
			continue
		}
		switch {
		case p.code == 0 && p.value == "EOF":
			sawEOF = true
		case p.code == 0 && p.value == "SECTION":
			name, err := r.next()
			if err != nil {
				return nil, truncated(err, p.line, "SECTION without a name")
			}
			inEntities = name.code == 2 && name.value == "ENTITIES"
			sawEntities = sawEntities || inEntities
		case p.code == 0 && p.value == "ENDSEC":
			inEntities = false
		case inEntities && p.code == 0 && p.value == "LWPOLYLINE":
			pl, err := r.lwpolyline(p.line)
			if err != nil {
				return nil, err
			}
			polylines = append(polylines, pl)
		case inEntities && p.code == 0 && p.value == "POLYLINE":
			pl, err := r.polyline(p.line)
			if err != nil {
				return nil, err
			}
			if pl != nil {
				polylines = append(polylines, *pl)
			}
		case inEntities && p.code == 0 && p.value == "VERTEX":
			return nil, &Error{Line: p.line, Message: "VERTEX outside a POLYLINE"}
		}
		if sawEOF {
			break
		}
	}
	if !sawEntities {
		return nil, &Error{Line: r.line, Message: "no ENTITIES section found; the drawing has no polylines to import"}
	}
	if !sawEOF {
		return nil, &Error{Line: r.line, Message: "file ends without the closing \"0 EOF\": it is truncated"}
	}
	return polylines, nil
}

func truncated(err error, line int, what string) error {
	if err == io.EOF {
		return &Error{Line: line, Message: what + ": the file is truncated"}
	}
	return err
}

func parseFloat(p pair) (float64, error) {
	f, err := strconv.ParseFloat(p.value, 64)
	if err != nil {
		return 0, &Error{Line: p.line + 1, Message: fmt.Sprintf("group code %d value %q is not a number", p.code, p.value)}
	}
	return f, nil
}

func parseInt(p pair) (int, error) {
	n, err := strconv.Atoi(p.value)
	if err != nil {
		return 0, &Error{Line: p.line + 1, Message: fmt.Sprintf("group code %d value %q is not an integer", p.code, p.value)}
	}
	return n, nil
}

// lwpolyline reads the group codes of one LWPOLYLINE up to the next entity.
func (r *reader) lwpolyline(start int) (Polyline, error) {
	pl := Polyline{Line: start}
	count := -1
	elevation := 0.0
	for {
		p, err := r.next()
		if err != nil {
			return pl, truncated(err, start, "LWPOLYLINE not finished")
		}
		if p.code == 0 {
			r.unread(p)
			break
		}
		switch p.code {
		case 8:
			pl.Layer = p.value
		case 38:
			if elevation, err = parseFloat(p); err != nil {
				return pl, err
			}
		case 70:
			flags, err := parseInt(p)
			if err != nil {
				return pl, err
			}
			pl.Closed = flags&1 != 0
		case 90:
			if count, err = parseInt(p); err != nil {
				return pl, err
			}
		case 10:
			x, err := parseFloat(p)
			if err != nil {
				return pl, err
			}
			pl.Points = append(pl.Points, [3]float64{x, 0, 0})
		case 20:
			if len(pl.Points) == 0 {
				return pl, &Error{Line: p.line, Message: "y (group code 20) before any x (group code 10)"}
			}
			y, err := parseFloat(p)
			if err != nil {
				return pl, err
			}
			pl.Points[len(pl.Points)-1][1] = y
		case 42:
			b, err := parseFloat(p)
			if err != nil {
				return pl, err
			}
			pl.Bulged = pl.Bulged || b != 0
		}
	}
	if count >= 0 && count != len(pl.Points) {
		return pl, &Error{Line: start, Message: fmt.Sprintf("LWPOLYLINE on layer %q declares %d vertices (group code 90) but has %d", pl.Layer, count, len(pl.Points))}
	}
	for i := range pl.Points {
		pl.Points[i][2] = elevation
	}
	return pl, nil
}

// polyline reads a POLYLINE header, its VERTEX entities and the SEQEND.
// Polygon meshes and polyface meshes return nil: they are surfaces, not
// plan outlines.
func (r *reader) polyline(start int) (*Polyline, error) {
	pl := Polyline{Line: start}
	elevation := 0.0
	mesh := false
	is3D := false
	for {
		p, err := r.next()
		if err != nil {
			return nil, truncated(err, start, "POLYLINE not finished")
		}
		if p.code == 0 {
			r.unread(p)
			break
		}
		switch p.code {
		case 8:
			pl.Layer = p.value
		case 30:
			if elevation, err = parseFloat(p); err != nil {
				return nil, err
			}
		case 70:
			flags, err := parseInt(p)
			if err != nil {
				return nil, err
			}
			pl.Closed = flags&1 != 0
			is3D = flags&8 != 0
			mesh = flags&(16|64) != 0
		}
	}

	for {
		p, err := r.next()
		if err != nil {
			return nil, truncated(err, start, fmt.Sprintf("POLYLINE on layer %q has no SEQEND", pl.Layer))
		}
		switch {
		case p.code == 0 && p.value == "VERTEX":
			v, bulged, err := r.vertex(p.line)
			if err != nil {
				return nil, err
			}
			if !is3D {
				v[2] = elevation
			}
			pl.Points = append(pl.Points, v)
			pl.Bulged = pl.Bulged || bulged
		case p.code == 0 && p.value == "SEQEND":
			if mesh {
				return nil, nil
			}
			return &pl, nil
		case p.code == 0:
			return nil, &Error{Line: p.line, Message: fmt.Sprintf("POLYLINE on layer %q (line %d) is followed by %s before its SEQEND", pl.Layer, start, p.value)}
		}
	}
}

func (r *reader) vertex(start int) ([3]float64, bool, error) {
	var v [3]float64
	var haveX, haveY, bulged bool
	for {
		p, err := r.next()
		if err != nil {
			return v, false, truncated(err, start, "VERTEX not finished")
		}
		if p.code == 0 {
			r.unread(p)
			break
		}
		switch p.code {
		case 10, 20, 30:
			f, err := parseFloat(p)
			if err != nil {
				return v, false, err
			}
			v[p.code/10-1] = f
			haveX = haveX || p.code == 10
			haveY = haveY || p.code == 20
		case 42:
			b, err := parseFloat(p)
			if err != nil {
				return v, false, err
			}
			bulged = b != 0
		}
	}
	if !haveX || !haveY {
		return v, false, &Error{Line: start, Message: "VERTEX without x (10) and y (20)"}
	}
	return v, bulged, nil
}
