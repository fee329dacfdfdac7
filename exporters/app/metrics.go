package app

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TextFamily is one metric family that a source wrote in the Prometheus
// text format 0.0.4 itself. Samples contains complete sample lines, each
// ending in a line feed, with escaped label values and no HELP, TYPE or
// timestamp. Label pairs are sorted by label name as client_golang writes
// them, so that equal series from an exposer and a registry compare equal.
type TextFamily struct {
	Name    string
	Help    string
	Type    dto.MetricType
	Samples []byte
}

// Exposer is a source whose series are too many for client_golang's
// per-series metric objects: it writes them as text on every scrape.
// Expose is called from concurrent scrapes.
type Exposer interface {
	Expose() []TextFamily
}

// ExposerFunc adapts a function to Exposer.
type ExposerFunc func() []TextFamily

// Expose calls f.
func (f ExposerFunc) Expose() []TextFamily { return f() }

// textContentType is the only format /metrics serves.
var textContentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))

// exposition is everything /metrics serves: the families of the
// client_golang registries and the families of the exposers, joined by
// family name.
type exposition struct {
	gatherer mergedGatherer
	exposers []Exposer
	// bufs holds response buffers, which are about 5 MB for 10,000 tags.
	bufs sync.Pool
	// lastBytes is the size of the last response, to size a new buffer.
	lastBytes atomic.Int64
}

// write writes the whole exposition in the text format to buf. A family
// that several sources export is written once with the HELP text of the
// first, and registries come before exposers. A series that a later
// source repeats with identical labels, and a family whose type differs
// from the first source's, are dropped and reported in the returned error.
// The rest is written all the same.
func (e *exposition) write(buf *bytes.Buffer) error {
	gathered, err := e.gatherer.Gather()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}

	type entry struct {
		gathered *dto.MetricFamily
		texts    []*TextFamily
	}
	byName := make(map[string]*entry, len(gathered))
	names := make([]string, 0, len(gathered))
	for _, f := range gathered {
		byName[f.GetName()] = &entry{gathered: f}
		names = append(names, f.GetName())
	}
	for _, x := range e.exposers {
		texts := x.Expose()
		for i := range texts {
			t := &texts[i]
			if len(t.Samples) == 0 {
				continue
			}
			en := byName[t.Name]
			if en == nil {
				en = &entry{}
				byName[t.Name] = en
				names = append(names, t.Name)
			}
			en.texts = append(en.texts, t)
		}
	}
	slices.Sort(names)

	for _, name := range names {
		en := byName[name]
		var typ dto.MetricType
		texts := en.texts
		var seen map[string]struct{}
		if en.gathered != nil {
			if _, err := expfmt.MetricFamilyToText(buf, en.gathered); err != nil {
				errs = append(errs, fmt.Errorf("cannot write metric family %s: %w", name, err))
			}
			typ = en.gathered.GetType()
			if len(texts) > 0 {
				seen = make(map[string]struct{}, len(en.gathered.Metric))
				for _, m := range en.gathered.Metric {
					seen[string(appendSeries(nil, name, m))] = struct{}{}
				}
			}
		} else {
			first := texts[0]
			writeHeader(buf, first.Name, first.Help, first.Type)
			writeSamples(buf, first.Samples)
			typ = first.Type
			texts = texts[1:]
			if len(texts) > 0 {
				seen = map[string]struct{}{}
				addSeries(seen, first.Samples)
			}
		}
		for i, t := range texts {
			if t.Type != typ {
				errs = append(errs, fmt.Errorf("metric family %s is a %s in one source and a %s in another; the second is dropped",
					name, typ, t.Type))
				continue
			}
			errs = writeNew(buf, t, seen, errs)
			if i < len(texts)-1 {
				addSeries(seen, t.Samples)
			}
		}
	}
	return errors.Join(errs...)
}

// writeHeader writes the HELP and TYPE lines of a family.
func writeHeader(buf *bytes.Buffer, name, help string, typ dto.MetricType) {
	buf.WriteString("# HELP ")
	buf.WriteString(name)
	buf.WriteByte(' ')
	for i := 0; i < len(help); i++ {
		switch help[i] {
		case '\\':
			buf.WriteString(`\\`)
		case '\n':
			buf.WriteString(`\n`)
		default:
			buf.WriteByte(help[i])
		}
	}
	buf.WriteString("\n# TYPE ")
	buf.WriteString(name)
	buf.WriteByte(' ')
	buf.WriteString(strings.ToLower(typ.String()))
	buf.WriteByte('\n')
}

// writeNew writes the sample lines of t whose series is not in seen. An
// exposer's own lines are unique, so only the series of earlier sources
// are in seen: a lookup that finds nothing costs no allocation, which
// matters for 30,000 lines of a family that the national files export too.
func writeNew(buf *bytes.Buffer, t *TextFamily, seen map[string]struct{}, errs []error) []error {
	start, pos := 0, 0
	for line := range bytes.Lines(t.Samples) {
		pos += len(line)
		if _, dup := seen[string(seriesOfLine(line))]; !dup {
			continue
		}
		buf.Write(t.Samples[start : pos-len(line)])
		start = pos
		errs = append(errs, fmt.Errorf("series %s is exported by two sources; the second copy is dropped",
			seriesOfLine(line)))
	}
	writeSamples(buf, t.Samples[start:])
	return errs
}

// writeSamples writes sample lines and a final line feed if they lack it.
func writeSamples(buf *bytes.Buffer, samples []byte) {
	buf.Write(samples)
	if n := len(samples); n > 0 && samples[n-1] != '\n' {
		buf.WriteByte('\n')
	}
}

// addSeries adds the series of every sample line in samples to seen.
func addSeries(seen map[string]struct{}, samples []byte) {
	for line := range bytes.Lines(samples) {
		seen[string(seriesOfLine(line))] = struct{}{}
	}
}

// seriesOfLine returns the name and labels of a sample line: up to the
// closing brace, which is the last one since a value has none, or up to
// the first space without labels.
func seriesOfLine(line []byte) []byte {
	if bytes.IndexByte(line, '{') >= 0 {
		return line[:bytes.LastIndexByte(line, '}')+1]
	}
	if i := bytes.IndexByte(line, ' '); i >= 0 {
		return line[:i]
	}
	return line
}

// appendSeries appends a series as a sample line starts: name and label
// pairs in the order the metric holds them (sorted by name in
// client_golang's output).
func appendSeries(b []byte, name string, m *dto.Metric) []byte {
	b = append(b, name...)
	if len(m.Label) == 0 {
		return b
	}
	for i, l := range m.Label {
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, l.GetName()...)
		b = append(b, `="`...)
		b = appendLabelValue(b, l.GetValue())
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendLabelValue appends v escaped as a quoted label value of the text
// format.
func appendLabelValue(b []byte, v string) []byte {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, v[i])
		}
	}
	return b
}

// serveHTTP writes the exposition in the text format 0.0.4, gzip
// compressed when the request accepts gzip. A scraper that requests
// protobuf or OpenMetrics gets the text format too, which Prometheus and
// vmagent both parse, and the Content-Type header names it.
func (e *exposition) serveHTTP(w http.ResponseWriter, r *http.Request, logger *slog.Logger) {
	buf, _ := e.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		size := e.lastBytes.Load()
		buf = bytes.NewBuffer(make([]byte, 0, size+size/8))
	}
	defer func() {
		e.lastBytes.Store(int64(buf.Len()))
		buf.Reset()
		e.bufs.Put(buf)
	}()
	if err := e.write(buf); err != nil {
		// As with promhttp.ContinueOnError, a failing collector or a
		// series that collides with another source's does not take the
		// rest off /metrics.
		logger.Error("gathering metrics failed in part, serving the rest", "err", err)
	}

	header := w.Header()
	header.Set("Content-Type", textContentType)
	var out io.Writer = w
	if acceptsGzip(r) {
		header.Set("Content-Encoding", "gzip")
		header.Add("Vary", "Accept-Encoding")
		gz, _ := gzipWriters.Get().(*gzip.Writer)
		if gz == nil {
			gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		} else {
			gz.Reset(w)
		}
		defer func() {
			_ = gz.Close()
			gzipWriters.Put(gz)
		}()
		out = gz
	} else {
		header.Set("Content-Length", strconv.Itoa(buf.Len()))
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		logger.Debug("cannot write /metrics response", "err", err)
	}
}

var gzipWriters sync.Pool

// acceptsGzip reports whether the Accept-Encoding header lists gzip
// without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// MetricsHandler serves /metrics: every family of the generation in the
// text format 0.0.4. Gathering errors are logged and the rest is served.
func (g *Generation) MetricsHandler(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.exposition.serveHTTP(w, r, logger)
	})
}

// exposerGatherer parses an exposer's text into metric families, for
// users of Generation.Gatherer; /metrics does not take this path.
type exposerGatherer struct {
	exposer Exposer
}

func (x exposerGatherer) Gather() ([]*dto.MetricFamily, error) {
	var buf bytes.Buffer
	for _, t := range x.exposer.Expose() {
		if len(t.Samples) == 0 {
			continue
		}
		writeHeader(&buf, t.Name, t.Help, t.Type)
		buf.Write(t.Samples)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(&buf)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the text of an exposer: %w", err)
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}
