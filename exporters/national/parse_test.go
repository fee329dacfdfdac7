package national

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestParseFileName(t *testing.T) {
	fn, err := ParseFileName("320382000101_RYSS_20261120221500.TXT")
	if err != nil {
		t.Fatal(err)
	}
	if fn.MineID != mine1 {
		t.Errorf("mine = %q", fn.MineID)
	}
	if fn.Type != TypeRYSS {
		t.Errorf("type = %q", fn.Type)
	}
	if want := time.Date(2026, 11, 20, 22, 15, 0, 0, CST); !fn.Time.Equal(want) {
		t.Errorf("time = %v, want %v", fn.Time, want)
	}
	if _, offset := fn.Time.Zone(); offset != 8*3600 {
		t.Errorf("zone offset = %d, want UTC+8", offset)
	}
}

func TestParseTimeIsChinaStandardTime(t *testing.T) {
	got, ok := parseTime("2026-11-20 22:15:00")
	if !ok {
		t.Fatal("valid time rejected")
	}
	if want := time.Date(2026, 11, 20, 14, 15, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("time = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "2026-11-20", "2026-13-20 22:15:00", "2026-11-20T22:15:00", "2026-11-20 2a:15:00"} {
		if _, ok := parseTime(bad); ok {
			t.Errorf("parseTime(%q) accepted", bad)
		}
	}
}

func TestDecoderForGBLabels(t *testing.T) {
	for _, label := range []string{"GB2312", "gbk", "GB18030", "cp936"} {
		enc, err := decoderFor(label)
		if err != nil || enc != simplifiedchinese.GB18030 {
			t.Errorf("decoderFor(%q) = %v, %v; want the GB18030 decoder", label, enc, err)
		}
	}
	if _, err := decoderFor("hz-gb-2312"); err == nil {
		t.Error("hz-gb-2312 accepted: its decoder swallows ~")
	}
}

func TestParseKeepsEmptyFields(t *testing.T) {
	fn, _ := ParseFileName(ryssName)
	file := ryssHeader + ryssRecord("00001", "1", "", "", "正常") + "||"
	f, err := Parse(fn, []byte(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 1 {
		t.Fatalf("records = %d, want 1", len(f.Records))
	}
	if got := f.Records[0][4]; got != "" {
		t.Errorf("time up = %q, want empty", got)
	}
	if got := f.Records[0][5]; got != "" {
		t.Errorf("area = %q, want empty", got)
	}
}

// FuzzParseFile checks that no input crashes the parser and that what it
// accepts is consistent: every record has its type's field count and the
// header names the file's mine.
func FuzzParseFile(f *testing.F) {
	for _, name := range []string{ryssName, ryqyName, cdssName} {
		f.Add(name, sampleFile(f, mine1, name))
	}
	f.Add(ryqyName, []byte(ryqy))
	gb, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(ryqy))
	f.Add(ryqyName, gb)
	f.Add(ryqyName, []byte(strings.NewReplacer(";", "；", "~", "～", "||", "｜｜").Replace(ryqy)))
	f.Add(ryqyName, []byte("\xEF\xBB\xBF"+ryqy))
	f.Add("320382000101_RYXX_20261120220000.txt", []byte("320382000101;x;12;a;b;c;d;2026-11-20 22:00:00~||"))
	f.Add("320382000101_RYCS_20261120220000.txt", []byte("320382000101;x;2026-11-20 22:00:00~1;2026-11-20 21:00:00;;a;b~||"))

	f.Fuzz(func(t *testing.T, name string, raw []byte) {
		fn, err := ParseFileName(name)
		if err != nil {
			return
		}
		file, err := Parse(fn, raw, nil)
		if err != nil {
			return
		}
		if file.Header[0] != fn.MineID {
			t.Fatalf("accepted header mine %q for file of mine %q", file.Header[0], fn.MineID)
		}
		for i, r := range file.Records {
			if len(r) != recordFields[fn.Type] {
				t.Fatalf("record %d has %d fields, %s wants %d", i, len(r), fn.Type, recordFields[fn.Type])
			}
		}
		c, invalid := decodeContent(file)
		if invalid < 0 || invalid > len(file.Records) {
			t.Fatalf("invalid = %d of %d records", invalid, len(file.Records))
		}
		st := NewState(nil)
		_ = appendImport(nil, st.samples(fn.MineID, c, nil))
		st.apply(fn.MineID, c)
	})
}

// snapshot builds an RYSS file with n cards spread over five areas.
func snapshot(n int) []byte {
	var b strings.Builder
	b.WriteString(ryssHeader)
	areas := []string{"3203820001010001", "3203820001010004", "3203820001010005", "3203820001010012", "3203820001010020"}
	for i := 0; i < n; i++ {
		area := areas[i%len(areas)]
		station := area + "000001"
		state := "正常"
		if i%997 == 0 {
			state = "求救"
		}
		// Signed distances from -30.5 to +30.5 m, so that cards walk both
		// ways along the tunnels and some cross a vertex.
		distance := float64((i*37)%61-30) + 0.5*float64(1-2*(i%2))
		fmt.Fprintf(&b, "%s%05d;张三;%d;2026-11-20 16:19:00;;%s;2026-11-20 16:39:00;%s;2026-11-20 16:39:00;三八制;%.2f;%s;0;0;%s&2026-11-20 16:19:00,%s&2026-11-20 16:39:00~\r\n",
			mine1, i, 1+i%20/19, area, station, distance, state, station, station)
	}
	b.WriteString("||")
	return []byte(b.String())
}

// BenchmarkParseRYSS measures splitting a 3,000-card RYSS file; the
// records/s figure is per benchmark goroutine (one core).
func BenchmarkParseRYSS(b *testing.B) {
	raw := snapshot(3000)
	fn, _ := ParseFileName(ryssName)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f, err := Parse(fn, raw, nil)
		if err != nil || len(f.Records) != 3000 {
			b.Fatalf("parse: %v, %d records", err, len(f.Records))
		}
	}
	b.ReportMetric(float64(3000*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkApplyRYSS measures a 3,000-card snapshot from bytes to current
// state plus the import body for VictoriaMetrics. The stations are those
// of the mine 1 sample and its plan, so every card is moved along a
// tunnel.
func BenchmarkApplyRYSS(b *testing.B) {
	raw := snapshot(3000)
	fn, _ := ParseFileName(ryssName)
	st := NewState(nil)

	plans, _, _, err := loadPlans(samplePlansDir())
	if err != nil {
		b.Fatal(err)
	}
	st.setPlans(plans, 5)

	const ryjzName = "320382000101_RYJZ_20261120220000.txt"
	for _, ref := range []struct{ name, text string }{
		{ryqyName, ryqy},
		{ryjzName, string(sampleFile(b, mine1, ryjzName))},
	} {
		name, _ := ParseFileName(ref.name)
		f, err := Parse(name, []byte(ref.text), nil)
		if err != nil {
			b.Fatal(err)
		}
		c, _ := decodeContent(f)
		st.apply(mine1, c)
	}

	check, err := Parse(fn, raw, nil)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := decodeContent(check)
	if onTunnel, atStation := st.countPositions(mine1, c.(*ryssContent)); atStation != 0 || onTunnel == 0 {
		b.Fatalf("%d cards placed on tunnels and %d at stations, want all on tunnels", onTunnel, atStation)
	}

	var buf []sample
	var body []byte
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f, err := Parse(fn, raw, nil)
		if err != nil {
			b.Fatal(err)
		}
		c, _ := decodeContent(f)
		buf = st.samples(mine1, c, buf[:0])
		body = appendImport(body[:0], buf)
		st.apply(mine1, c)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/snapshot")
}

func TestSourceRunPicksUpUploads(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RescanInterval = time.Hour }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.src.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	// The upload lands in a new mine folder. With rescans an hour apart,
	// only file system notifications can get it ingested. The watcher may
	// start after the upload, so a hidden marker in the inbox is touched
	// until the file is in done/.
	dir := filepath.Join(h.inbox, mine1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "."+ryqyName)
	if err := os.WriteFile(tmp, []byte(ryqy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ryqyName)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(h.inbox, "done", mine1, ryqyName)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("uploaded file not ingested within 30s")
		}
		if i%10 == 9 {
			_ = os.WriteFile(filepath.Join(h.inbox, ".marker"), nil, 0o644)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := h.files(mine1, TypeRYQY, OutcomeDone); got != 1 {
		t.Errorf("files done = %v, want 1", got)
	}
}
