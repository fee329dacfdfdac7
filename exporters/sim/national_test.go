package sim

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func samplesDir(mineID string) string {
	return filepath.Join("..", "..", "deploy", "local", "samples", "national", mineID)
}

func loadSamples(t *testing.T, mineID string) map[string][]NationalSample {
	t.Helper()
	samples, err := LoadNationalSamples(samplesDir(mineID))
	if err != nil {
		t.Fatal(err)
	}
	return samples
}

func TestLoadNationalSamplesByType(t *testing.T) {
	samples := loadSamples(t, "320382000202")
	for typ, want := range map[string]int{"RYSS": 3, "JZSS": 3, "CDSS": 3, "RYQY": 1, "RYJZ": 1, "RYXX": 1} {
		if got := len(samples[typ]); got != want {
			t.Errorf("%s: %d samples, want %d", typ, got, want)
		}
	}
	ryss := samples["RYSS"]
	if !ryss[0].Time.Before(ryss[1].Time) || !ryss[1].Time.Before(ryss[2].Time) {
		t.Errorf("RYSS samples not in time order: %s, %s, %s", ryss[0].Name, ryss[1].Name, ryss[2].Name)
	}
}

func TestRenderShiftsEveryTime(t *testing.T) {
	s := loadSamples(t, "320382000202")["RYSS"][0] // 2026-11-20 22:00:00
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, chinaStandardTime)
	name, data, err := s.Render(NationalEdit{Shift: at.Sub(s.Time)})
	if err != nil {
		t.Fatal(err)
	}
	if name != "320382000202_RYSS_20300102030405.txt" {
		t.Errorf("name = %s", name)
	}
	text := string(data)
	if !strings.HasPrefix(text, "320382000202;示例二号煤矿;2030-01-02 03:04:05~\r\n") {
		t.Errorf("header not shifted: %.60q", text)
	}
	// Card 1 went down 7h40m before the snapshot and came to its station
	// 20 minutes later; the track repeats both times.
	want := "32038200020200001;孙超杰;1;2030-01-01 19:24:05;;3203820002020001;2030-01-01 19:44:05;" +
		"3203820002020001000001;2030-01-01 19:44:05;三八制;22.69;正常;0;0;" +
		"3203820002020001000001&2030-01-01 19:24:05,3203820002020001000001&2030-01-01 19:44:05~\r\n"
	if !strings.Contains(text, want) {
		t.Errorf("first record not shifted as expected; want %q in output", want)
	}
	if strings.Contains(text, "2026-11-20") {
		t.Error("output still contains a sample time of 2026-11-20")
	}
	if !strings.HasSuffix(text, "~\r\n||") {
		t.Errorf("closing lost: %q", text[len(text)-10:])
	}
	if got, want := strings.Count(text, "\r\n"), strings.Count(s.Text, "\r\n"); got != want {
		t.Errorf("%d CR/LF, sample has %d", got, want)
	}
}

func TestRenderKeepsDatesWithoutTime(t *testing.T) {
	s := loadSamples(t, "320382000101")["RYXX"][0]
	_, data, err := s.Render(NationalEdit{Shift: 400 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	// Certificate expiry and birth months are dates, not data times.
	if !strings.Contains(text, ";2028-06-30;") {
		t.Error("certificate expiry 2028-06-30 changed")
	}
	if !strings.Contains(text, ";1985-03;") {
		t.Error("birth month 1985-03 changed")
	}
	if !strings.Contains(text, ";2027-12-25 22:00:00~") {
		t.Errorf("header upload time not shifted by 400 days: %.120s", text)
	}
}

func TestRenderKeepsGB18030AndBOM(t *testing.T) {
	dir := t.TempDir()
	text := "320382000303;示例三号煤矿;2026-11-20 22:00:00~\r\n" +
		"井口区域;3203820003030001;0;副井井口~\r\n||"
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "320382000303_RYQY_20261120220000.TXT"), gb, 0o644); err != nil {
		t.Fatal(err)
	}
	bom := append([]byte{0xEF, 0xBB, 0xBF}, "320382000303;示例三号煤矿;2026-11-20 22:00:00~||"...)
	if err := os.WriteFile(filepath.Join(dir, "320382000303_JZSS_20261120220000.txt"), bom, 0o644); err != nil {
		t.Fatal(err)
	}
	samples, err := LoadNationalSamples(dir)
	if err != nil {
		t.Fatal(err)
	}

	ryqy := samples["RYQY"][0]
	name, data, err := ryqy.Render(NationalEdit{Shift: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if name != "320382000303_RYQY_20261120230000.TXT" {
		t.Errorf("name = %s, want the upper-case extension kept", name)
	}
	decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(text, "22:00:00", "23:00:00", 1); string(decoded) != want {
		t.Errorf("GB18030 output decodes to %q, want %q", decoded, want)
	}
	if bytes.Equal(data, decoded) {
		t.Error("output is UTF-8, want GB18030 like the sample")
	}

	_, data, err = samples["JZSS"][0].Render(NationalEdit{Shift: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		t.Error("byte order mark lost")
	}
}

func TestLoadNationalSamplesRejects(t *testing.T) {
	cases := map[string]struct{ name, content, want string }{
		"bad name":   {"ryss.txt", "x~||", "name must be"},
		"bad type":   {"320382000101_RY_20261120220000.txt", "x~||", "name must be"},
		"incomplete": {"320382000101_RYSS_20261120220000.txt", "320382000101;a;2026-11-20 22:00:00~", "does not end with ||"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, c.name), []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadNationalSamples(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	if _, err := LoadNationalSamples(t.TempDir()); err == nil {
		t.Error("empty folder accepted")
	}
}

func TestCumulativeOutputKeepsRising(t *testing.T) {
	cdss := loadSamples(t, "320382000202")["CDSS"] // output 900.0, 938.5, 981.2
	steps := cumulativeSteps(cdss, []string{"3001"})
	point := "32038200020201LJ3001001"
	// (981.2 - 900.0) * 3 / 2: two steps of rise plus one average step.
	if got := steps[point]; got < 121.79 || got > 121.81 {
		t.Fatalf("step of %s = %v, want 121.8", point, got)
	}
	if len(steps) != 1 {
		t.Errorf("steps = %v, want only the output point", steps)
	}
	_, data, err := cdss[0].Render(NationalEdit{Add: map[string]float64{point: steps[point] * 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), point+";产量;主井皮带秤;1143.6;t;0;") {
		t.Errorf("second loop's first output is not 900.0 + 2 * 121.8 = 1143.6:\n%s", data)
	}
	if got := cumulativeSteps(loadSamples(t, "320382000101")["CDSS"], []string{"3001"}); len(got) != 0 {
		t.Errorf("a single sample gave steps %v, want none", got)
	}
}

func TestRenderStateEdits(t *testing.T) {
	samples := loadSamples(t, "320382000202")
	_, data, err := samples["RYSS"][1].Render(NationalEdit{SOS: true})
	if err != nil {
		t.Fatal(err)
	}
	// Card 1 of this sample came up (flag 2); card 2 is the first underground.
	text := string(data)
	if strings.Count(text, ";求救;") != 1 {
		t.Errorf("want exactly one SOS record, got %d", strings.Count(text, ";求救;"))
	}
	if !regexp.MustCompile(`~\r\n32038200020200002;[^;]*;1;([^;]*;){8}求救;`).MatchString(text) {
		t.Error("SOS not set on card 32038200020200002, the first card underground")
	}

	_, data, err = samples["CDSS"][0].Render(NationalEdit{FanStopped: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "32038200020201KG1010001;主通风机;主通风机;0;;0;") {
		t.Errorf("main fan not stopped:\n%s", data)
	}
	if !strings.Contains(string(data), "32038200020201KG1004001;设备开停;主井带式输送机;1;;0;") {
		t.Errorf("belt changed by fan_stopped:\n%s", data)
	}
}

func TestUploadFileGrowsAndNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	data := []byte("320382000101;示例一号煤矿;2026-11-20 22:00:00~||")

	// A cancelled upload stops after the first chunk, as a broken
	// connection leaves a file without its closing "||".
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := UploadFile(ctx, path, data, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	got, _ := os.ReadFile(path)
	if len(got) == 0 || len(got) >= len(data) || !bytes.HasPrefix(data, got) {
		t.Errorf("partial upload left %d of %d bytes", len(got), len(data))
	}

	if err := UploadFile(context.Background(), path, data, 0); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second upload to the same name: err = %v, want fs.ErrExist", err)
	}
	path2 := filepath.Join(filepath.Dir(path), "g.txt")
	if err := UploadFile(context.Background(), path2, data, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path2); !bytes.Equal(got, data) {
		t.Errorf("complete upload = %q", got)
	}
}

// fakeTime drives a replay: sleeping advances the clock, and the replay
// stops after a number of live sleeps.
type fakeTime struct {
	now    time.Time
	sleeps int
	cancel context.CancelFunc
}

func (f *fakeTime) Now() time.Time { return f.now }

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	if f.sleeps == 0 {
		f.cancel()
		return context.Canceled
	}
	f.sleeps--
	if d > 0 {
		f.now = f.now.Add(d)
	}
	return nil
}

func newTestReplay(t *testing.T, scenario string, mineID string) (*NationalReplay, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "scenario.yml")
	abs, err := filepath.Abs(samplesDir(mineID))
	if err != nil {
		t.Fatal(err)
	}
	scenario = strings.ReplaceAll(scenario, "SAMPLES", abs)
	if err := os.WriteFile(path, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	inbox := filepath.Join(dir, "inbox")
	r, err := NewNationalReplay(s, s.Mine(mineID), NationalOptions{Inbox: inbox, UploadDuration: -1},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return r, filepath.Join(inbox, mineID)
}

func runFake(t *testing.T, r *NationalReplay, start time.Time, liveSleeps int, backfill time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ft := &fakeTime{now: start, sleeps: liveSleeps, cancel: cancel}
	r.now = ft.Now
	r.sleep = ft.Sleep
	r.cfg.UploadDuration = 0
	if err := r.Run(ctx, backfill); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
}

func listNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

const replayScenario = `
mines:
  - mine_id: "320382000202"
    timeline:
      - {at: 0s, states: [secret_night_work]}
    national:
      samples: SAMPLES
      interval: 5m
      intervals: {CDSS: 1m}
      static_interval: 1h
`

func TestReplayBackfillAndLive(t *testing.T) {
	r, dir := newTestReplay(t, replayScenario, "320382000202")
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, chinaStandardTime)
	// Three live sleeps of 0 write CDSS, JZSS and RYSS of 10:00; the
	// next two reach CDSS of 10:01 and 10:02.
	runFake(t, r, start, 5, 12*time.Minute)

	names := listNames(t, dir)
	var want []string
	for _, typ := range []string{"RYQY", "RYJZ", "RYXX"} {
		want = append(want, "320382000202_"+typ+"_20261204094800.txt")
	}
	// RYSS and JZSS every 5 minutes from 9:50.
	for _, hm := range []string{"0950", "0955", "1000"} {
		want = append(want, "320382000202_RYSS_20261204"+hm+"00.txt", "320382000202_JZSS_20261204"+hm+"00.txt")
	}
	for m := 48; m <= 62; m++ { // CDSS every minute from 9:48 to 10:02
		hm := time.Date(2026, 12, 4, 9, m, 0, 0, chinaStandardTime).Format("1504")
		want = append(want, "320382000202_CDSS_20261204"+hm+"00.txt")
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("files:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}

	// The 4th CDSS file is the first of the second loop over 3 samples.
	data, err := os.ReadFile(filepath.Join(dir, "320382000202_CDSS_20261204095100.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), ";主井皮带秤;1021.8;t;0;2026-12-04 09:51:00~") {
		t.Errorf("second loop's output is not 900.0 + 121.8:\n%s", data)
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(data, []byte("||")) {
			t.Errorf("%s does not end with ||", name)
		}
		for _, ts := range nationalTimePattern.FindAllString(string(data), -1) {
			tm, _ := time.ParseInLocation(nationalTimeLayout, ts, chinaStandardTime)
			if tm.After(start.Add(2 * time.Minute)) {
				t.Errorf("%s carries %s, after the replay's present", name, ts)
			}
		}
	}
}

func TestReplayFeedSilentWritesNothing(t *testing.T) {
	scenario := strings.Replace(replayScenario, "[secret_night_work]", "[secret_night_work, feed_silent]", 1)
	r, dir := newTestReplay(t, scenario, "320382000202")
	runFake(t, r, time.Date(2026, 12, 4, 10, 0, 0, 0, chinaStandardTime), 5, 10*time.Minute)
	if names := listNames(t, dir); len(names) != 0 {
		t.Errorf("feed_silent mine wrote %d files: %v", len(names), names)
	}
}

func TestLocalScenarioHasNationalReplays(t *testing.T) {
	s, err := Load(filepath.Join("..", "..", "deploy", "local", "scenario.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"320382000101", "320382000202"} {
		r, err := NewNationalReplay(s, s.Mine(id), NationalOptions{Inbox: t.TempDir(), UploadDuration: -1},
			slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			t.Fatalf("mine %s has no national section", id)
		}
		if r.cfg.Interval != 5*time.Minute {
			t.Errorf("mine %s: interval %s, want 5m", id, r.cfg.Interval)
		}
	}
}

func TestNationalConfigValidate(t *testing.T) {
	c := NationalConfig{Interval: time.Millisecond, Intervals: map[string]time.Duration{"CDSS": 0},
		CumulativeTypes: []string{"30011"}}
	c.SetDefaults()
	err := c.Validate()
	for _, want := range []string{"samples is missing", "interval 1ms", "intervals.CDSS", "30011"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
}
