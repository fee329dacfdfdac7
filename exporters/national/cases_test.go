package national

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

const (
	ryqyName = "320382000101_RYQY_20261120220000.txt"
	ryssName = "320382000101_RYSS_20261120221500.txt"
	cdssName = "320382000101_CDSS_20261120221500.txt"
)

// ryqy is a small RYQY file of mine 1; its restricted area's name holds
// 亅, whose GB18030 second byte is "|" (0x7C), and 倊, whose second byte
// is "~" (0x7E).
const ryqy = "320382000101;示例一号煤矿;2026-11-20 22:00:00~" +
	"重点区域;3203820001010004;16;1301综采工作面~" +
	"限制区域;3203820001010012;0;采空区亅倊密闭~" +
	"重点区域;3203820001010005;12;2105掘进工作面~||"

// ryssRecord builds one RYSS record of mine 1.
func ryssRecord(card, flag, area, station, state string) string {
	return strings.Join([]string{mine1 + card, "张三", flag, "2026-11-20 20:15:00", "",
		area, "2026-11-20 20:30:00", station, "2026-11-20 20:30:00", "三八制", "1.5", state, "0", "0",
		station + "&2026-11-20 20:30:00"}, ";") + "~"
}

const ryssHeader = "320382000101;示例一号煤矿;2026-11-20 22:15:00~"

func TestInboxSampleUTF8(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine1, ryssName, sampleFile(t, mine1, ryssName))
	h.pass()
	h.assertDone(mine1, ryssName)
	if got := h.files(mine1, TypeRYSS, OutcomeDone); got != 1 {
		t.Errorf("files done = %v, want 1", got)
	}
	if got := h.records(mine1, TypeRYSS, RecordOK); got != 39 {
		t.Errorf("RYSS records ok = %v, want 39", got)
	}
}

func TestInboxUTF8WithBOM(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine1, ryqyName, append([]byte{0xEF, 0xBB, 0xBF}, ryqy...))
	h.pass()
	h.assertDone(mine1, ryqyName)
	if got := h.files(mine1, TypeRYQY, OutcomeDone); got != 1 {
		t.Errorf("files done = %v, want 1", got)
	}
	if got := h.records(mine1, TypeRYQY, RecordOK); got != 3 {
		t.Errorf("records ok = %v, want 3 (the BOM must not spoil the header)", got)
	}
}

func TestInboxGB18030(t *testing.T) {
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(ryqy))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gb), "\x81\x7c") || !strings.Contains(string(gb), "\x82\x7e") {
		t.Fatal("test data lost the GB18030 characters whose second byte is | or ~")
	}
	for _, enc := range []string{"auto", "gbk", "GB2312", "gb18030"} {
		t.Run(enc, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Encoding = enc }, nil)
			h.put(mine1, ryqyName, gb)
			h.pass()
			h.assertDone(mine1, ryqyName)
			if got := h.records(mine1, TypeRYQY, RecordOK); got != 3 {
				t.Errorf("records ok = %v, want 3", got)
			}
			if got := h.records(mine1, TypeRYQY, RecordWrongFieldCount); got != 0 {
				t.Errorf("records wrong_field_count = %v, want 0: split before decoding?", got)
			}
			if _, ok := h.gauge("mine_area_persons_limit", map[string]string{"area": "3203820001010012", "area_type": AreaRestricted}); !ok {
				t.Error("restricted area 3203820001010012 missing: area type not decoded from GB18030")
			}
		})
	}
}

func TestInboxCRLFAfterRecords(t *testing.T) {
	h := newHarness(t, nil, nil)
	crlf := strings.ReplaceAll(ryqy, "~", "~\r\n")
	h.put(mine1, ryqyName, []byte(crlf))
	h.pass()
	h.assertDone(mine1, ryqyName)
	if got := h.records(mine1, TypeRYQY, RecordOK); got != 3 {
		t.Errorf("records ok = %v, want 3", got)
	}
	if got := h.records(mine1, TypeRYQY, RecordWrongFieldCount); got != 0 {
		t.Errorf("records wrong_field_count = %v, want 0", got)
	}
}

func TestInboxUpperCaseExtension(t *testing.T) {
	h := newHarness(t, nil, nil)
	name := "320382000101_RYQY_20261120220000.TXT"
	h.put(mine1, name, []byte(ryqy))
	h.pass()
	h.assertDone(mine1, name)
	if got := h.files(mine1, TypeRYQY, OutcomeDone); got != 1 {
		t.Errorf("files done = %v, want 1", got)
	}
}

func TestInboxIncompleteWaitsThenRejects(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.IncompleteTimeout = 10 * time.Minute }, nil)
	partial := ryqy[:strings.Index(ryqy, "||")]
	path := h.put(mine1, ryqyName, []byte(partial))
	modified := h.now.Add(-time.Minute)
	if err := os.Chtimes(path, modified, modified); err != nil {
		t.Fatal(err)
	}

	h.pass()
	h.assertWaiting(mine1, ryqyName)
	if got := h.files(mine1, TypeRYQY, OutcomeRejected); got != 0 {
		t.Errorf("files rejected while waiting = %v, want 0", got)
	}

	h.now = h.now.Add(10 * time.Minute)
	h.pass()
	h.assertRejected(mine1, ryqyName, ReasonIncomplete)
	if got := h.files(mine1, TypeRYQY, OutcomeRejected); got != 1 {
		t.Errorf("files rejected = %v, want 1", got)
	}
}

func TestInboxIncompleteThenCompleted(t *testing.T) {
	h := newHarness(t, nil, nil)
	partial := ryqy[:len(ryqy)/2]
	h.put(mine1, ryqyName, []byte(partial))
	h.pass()
	h.assertWaiting(mine1, ryqyName)

	h.put(mine1, ryqyName, []byte(ryqy))
	h.pass()
	h.assertDone(mine1, ryqyName)
	if got := h.files(mine1, TypeRYQY, OutcomeDone); got != 1 {
		t.Errorf("files done = %v, want 1", got)
	}
}

func TestInboxWrongFieldCount(t *testing.T) {
	h := newHarness(t, nil, nil)
	short := strings.Join(strings.Split(ryssRecord("00002", "1", "3203820001010004", "3203820001010004000001", "正常"), ";")[:14], ";") + "~"
	long := strings.TrimSuffix(ryssRecord("00003", "1", "3203820001010004", "3203820001010004000001", "正常"), "~") + ";extra~"
	file := ryssHeader + ryssRecord("00001", "1", "3203820001010004", "3203820001010004000001", "正常") +
		short + long + ryssRecord("00004", "1", "3203820001010005", "3203820001010005000001", "正常") + "||"
	h.put(mine1, ryssName, []byte(file))
	h.pass()
	h.assertDone(mine1, ryssName)
	if got := h.records(mine1, TypeRYSS, RecordOK); got != 2 {
		t.Errorf("records ok = %v, want 2", got)
	}
	if got := h.records(mine1, TypeRYSS, RecordWrongFieldCount); got != 2 {
		t.Errorf("records wrong_field_count = %v, want 2", got)
	}
	if got, _ := h.gauge("mine_underground_persons", map[string]string{"mine_id": mine1}); got != 2 {
		t.Errorf("mine_underground_persons = %v, want 2 (the good records)", got)
	}
}

func TestInboxInvalidValue(t *testing.T) {
	h := newHarness(t, nil, nil)
	file := ryssHeader + ryssRecord("00001", "1", "3203820001010004", "3203820001010004000001", "正常") +
		ryssRecord("00002", "7", "3203820001010004", "3203820001010004000001", "正常") + "||"
	h.put(mine1, ryssName, []byte(file))
	h.pass()
	h.assertDone(mine1, ryssName)
	if got := h.records(mine1, TypeRYSS, RecordInvalidValue); got != 1 {
		t.Errorf("records invalid_value = %v, want 1 (in/out flag 7)", got)
	}
	if got := h.records(mine1, TypeRYSS, RecordOK); got != 1 {
		t.Errorf("records ok = %v, want 1", got)
	}
}

func TestInboxFullWidthSeparators(t *testing.T) {
	h := newHarness(t, nil, nil)
	wide := strings.NewReplacer(";", "；", "~", "～", "||", "｜｜").Replace(ryqy)
	h.put(mine1, ryqyName, []byte(wide))
	h.pass()
	h.assertDone(mine1, ryqyName)
	if got := h.records(mine1, TypeRYQY, RecordOK); got != 3 {
		t.Errorf("records ok = %v, want 3", got)
	}
	if got, ok := h.gauge("mine_area_persons_limit", map[string]string{"area": "3203820001010004"}); !ok || got != 16 {
		t.Errorf("limit of area 3203820001010004 = %v (present %v), want 16", got, ok)
	}
}

func TestInboxFutureHeaderRejected(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.now = time.Date(2026, 11, 20, 21, 0, 0, 0, CST) // the file is an hour ahead
	h.put(mine1, ryqyName, []byte(ryqy))
	h.pass()
	h.assertRejected(mine1, ryqyName, ReasonFutureTime)
	if got := h.files(mine1, TypeRYQY, OutcomeRejected); got != 1 {
		t.Errorf("files rejected = %v, want 1", got)
	}
}

func TestInboxFutureHeaderWithinTolerance(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.FutureTolerance = 2 * time.Hour }, nil)
	h.now = time.Date(2026, 11, 20, 21, 0, 0, 0, CST)
	h.put(mine1, ryqyName, []byte(ryqy))
	h.pass()
	h.assertDone(mine1, ryqyName)
	if got := h.flagged(mine1, TypeRYQY, FlagFutureTime); got != 0 {
		t.Errorf("flagged = %v, want 0 within tolerance", got)
	}
}

func TestInboxFutureHeaderFlagged(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.FutureAction = FutureFlag }, nil)
	h.now = time.Date(2026, 11, 20, 21, 0, 0, 0, CST)
	h.put(mine1, ryqyName, []byte(ryqy))
	h.pass()
	h.assertDone(mine1, ryqyName)
	if got := h.flagged(mine1, TypeRYQY, FlagFutureTime); got != 1 {
		t.Errorf("flagged header_time_in_future = %v, want 1", got)
	}
	if got := h.files(mine1, TypeRYQY, OutcomeDone); got != 1 {
		t.Errorf("files done = %v, want 1", got)
	}
}

func TestInboxInvalidNames(t *testing.T) {
	names := []string{
		"320382000101_RYQY_20261120220000.csv",
		"320382000101-RYQY-20261120220000.txt",
		"32038200010_RYQY_20261120220000.txt",
		"320382000101_RYZZ_20261120220000.txt",
		"320382000101_RYQY_2026112022000.txt",
		"320382000101_RYQY_20261320220000.txt",
		"320382000101_RYQY_20261120220000_1.txt",
	}
	h := newHarness(t, nil, nil)
	for _, name := range names {
		h.put(mine1, name, []byte(ryqy))
	}
	h.pass()
	for _, name := range names {
		h.assertRejected(mine1, name, ReasonInvalidName)
	}
	if got := h.files(mine1, "unknown", OutcomeRejected); got != float64(len(names)) {
		t.Errorf("files rejected = %v, want %d", got, len(names))
	}
	if v, ok := h.gauge("mine_source_up", map[string]string{"target": "unknown"}); ok {
		t.Errorf("mine_source_up{target=\"unknown\"} = %v, want no series for files without a type", v)
	}
}

func TestInboxUnregisteredMine(t *testing.T) {
	h := newHarness(t, nil, nil)
	const other = "320382000999"
	name := other + "_RYQY_20261120220000.txt"
	h.put(other, name, []byte(strings.ReplaceAll(ryqy, mine1, other)))
	h.pass()
	h.assertDone(other, name)
	if got := h.files(other, TypeRYQY, OutcomeDone); got != 1 {
		t.Errorf("files done = %v, want 1", got)
	}
	if got := h.flagged(other, TypeRYQY, FlagUnregisteredMine); got != 1 {
		t.Errorf("flagged unregistered_mine = %v, want 1", got)
	}
	if got := h.flagged(mine1, TypeRYQY, FlagUnregisteredMine); got != 0 {
		t.Errorf("registered mine flagged = %v, want 0", got)
	}
}

func TestInboxFolderMismatch(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine2, ryqyName, []byte(ryqy))
	h.pass()
	h.assertRejected(mine2, ryqyName, ReasonFolderMismatch)
	if got := h.files(mine2, TypeRYQY, OutcomeRejected); got != 1 {
		t.Errorf("files rejected = %v, want 1", got)
	}
}

func TestInboxHeaderMineMismatch(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine1, ryqyName, []byte(strings.Replace(ryqy, mine1, mine2, 1)))
	h.pass()
	h.assertRejected(mine1, ryqyName, ReasonHeaderMismatch)
	if got := h.files(mine1, TypeRYQY, OutcomeRejected); got != 1 {
		t.Errorf("files rejected = %v, want 1", got)
	}
}

func TestInboxInvalidHeaderTime(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine1, ryqyName, []byte(strings.Replace(ryqy, "2026-11-20 22:00:00", "20.11.2026 22:00", 1)))
	h.pass()
	h.assertRejected(mine1, ryqyName, ReasonInvalidHeader)
	if got := h.files(mine1, TypeRYQY, OutcomeRejected); got != 1 {
		t.Errorf("files rejected = %v, want 1", got)
	}
}

func TestInboxTrailingData(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine1, ryqyName, []byte(ryqy+"重点区域;3203820001010004;16;x~"))
	h.pass()
	h.assertRejected(mine1, ryqyName, ReasonTrailingData)
	if got := h.files(mine1, TypeRYQY, OutcomeRejected); got != 1 {
		t.Errorf("files rejected = %v, want 1", got)
	}
}

func TestInboxTooLargeRejected(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxFileBytes = int64(len(ryqy)) - 1 }, nil)
	h.put(mine1, ryqyName, []byte(ryqy))
	h.pass()
	h.assertRejected(mine1, ryqyName, ReasonTooLarge)
	if got := h.files(mine1, TypeRYQY, OutcomeRejected); got != 1 {
		t.Errorf("files rejected = %v, want 1", got)
	}
}

func TestInboxDuplicateRejected(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine1, ryqyName, []byte(ryqy))
	h.pass()
	h.assertDone(mine1, ryqyName)

	h.put(mine1, ryqyName, []byte(ryqy))
	h.pass()
	h.assertRejected(mine1, ryqyName, ReasonDuplicate)
	if got := h.files(mine1, TypeRYQY, OutcomeDone); got != 1 {
		t.Errorf("files done = %v, want 1", got)
	}
	if got := h.files(mine1, TypeRYQY, OutcomeRejected); got != 1 {
		t.Errorf("files rejected = %v, want 1", got)
	}
}

func TestInboxRejectedNamesNeverOverwrite(t *testing.T) {
	h := newHarness(t, nil, nil)
	bad := "320382000101_RYQY_20261120220000.csv"
	for i := 0; i < 2; i++ {
		h.put(mine1, bad, []byte(ryqy))
		h.pass()
	}
	for _, name := range []string{bad, bad + ".1"} {
		if _, err := os.Stat(filepath.Join(h.inbox, "rejected", mine1, name)); err != nil {
			t.Errorf("rejected/%s/%s missing: %v", mine1, name, err)
		}
	}
}

func TestInboxCardDisappears(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine1, ryqyName, []byte(ryqy))
	first := ryssHeader + ryssRecord("00001", "1", "3203820001010004", "3203820001010004000001", "正常") +
		ryssRecord("00002", "1", "3203820001010012", "3203820001010012000001", "求救") + "||"
	h.put(mine1, ryssName, []byte(first))
	h.pass()
	if got, ok := h.gauge("mine_person_sos", map[string]string{"card": "32038200010100002"}); !ok || got != 1 {
		t.Errorf("SOS of card 32038200010100002 = %v (present %v), want 1", got, ok)
	}
	if got, _ := h.gauge("mine_restricted_area_persons", map[string]string{"mine_id": mine1}); got != 1 {
		t.Errorf("mine_restricted_area_persons = %v, want 1", got)
	}
	if got, _ := h.gauge("mine_person_underground_seconds", map[string]string{"card": "32038200010100001"}); got != 2*3600 {
		t.Errorf("underground seconds = %v, want 7200 (20:15 to 22:15)", got)
	}

	second := strings.Replace(ryssHeader, "22:15:00", "22:20:00", 1) +
		ryssRecord("00001", "1", "3203820001010004", "3203820001010004000001", "正常") + "||"
	h.put(mine1, "320382000101_RYSS_20261120222000.txt", []byte(second))
	h.pass()
	if _, ok := h.gauge("mine_person_sos", map[string]string{"card": "32038200010100002"}); ok {
		t.Error("card 32038200010100002 is not in the newest RYSS but still has a series")
	}
	if got, _ := h.gauge("mine_underground_persons", map[string]string{"mine_id": mine1}); got != 1 {
		t.Errorf("mine_underground_persons = %v, want 1", got)
	}
	if got, ok := h.gauge("mine_area_persons", map[string]string{"area": "3203820001010012"}); !ok || got != 0 {
		t.Errorf("restricted area persons = %v (present %v), want 0 after it emptied", got, ok)
	}
}

func TestInboxLateFileKeepsNewerState(t *testing.T) {
	h := newHarness(t, nil, nil)
	newer := strings.Replace(ryssHeader, "22:15:00", "22:20:00", 1) +
		ryssRecord("00001", "1", "3203820001010004", "3203820001010004000001", "正常") + "||"
	h.put(mine1, "320382000101_RYSS_20261120222000.txt", []byte(newer))
	h.pass()
	older := ryssHeader + ryssRecord("00001", "1", "3203820001010004", "3203820001010004000001", "正常") +
		ryssRecord("00002", "1", "3203820001010004", "3203820001010004000001", "正常") + "||"
	h.put(mine1, ryssName, []byte(older))
	h.pass()
	h.assertDone(mine1, ryssName)
	if got, _ := h.gauge("mine_underground_persons", map[string]string{"mine_id": mine1}); got != 1 {
		t.Errorf("mine_underground_persons = %v, want 1 from the newer file", got)
	}
}

func TestInboxRegistryOverridesAreaLimit(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.put(mine1, ryqyName, []byte(ryqy))
	h.pass()
	if got, _ := h.gauge("mine_area_persons_limit", map[string]string{"area": "3203820001010005"}); got != 10 {
		t.Errorf("limit of area 3203820001010005 = %v, want 10 from the registry (RYQY says 12)", got)
	}
	if got, _ := h.gauge("mine_area_persons_limit", map[string]string{"area": "3203820001010004"}); got != 16 {
		t.Errorf("limit of area 3203820001010004 = %v, want 16 from RYQY", got)
	}
}

func TestInboxSamplesDerived(t *testing.T) {
	h := newHarness(t, nil, nil)
	copySamples(t, h.inbox)
	h.pass()
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"mine_area_persons", map[string]string{"mine_id": mine1, "area": "3203820001010004", "area_type": AreaKey}, 21},
		{"mine_area_persons", map[string]string{"mine_id": mine1, "area": "3203820001010012", "area_type": AreaRestricted}, 1},
		{"mine_restricted_area_persons", map[string]string{"mine_id": mine1}, 1},
		{"mine_station_up", map[string]string{"mine_id": mine1, "station": "3203820001010004000001"}, 1},
		{"mine_equipment_on", map[string]string{"mine_id": mine2, "point": "32038200020201KG1004001"}, 1},
		{"mine_main_fan_on", map[string]string{"mine_id": mine2}, 1},
		{"mine_output_tonnes_total", map[string]string{"mine_id": mine2, "source": "cdss"}, 981.2},
		{"mine_sensor_value", map[string]string{"mine_id": mine1, "point": "32038200010101MN0001001", "sensor_type": "0001"}, 0.32},
		{"mine_national_approved_underground_persons", map[string]string{"mine_id": mine1}, 120},
		{"mine_feed_last_data_timestamp_seconds", map[string]string{"mine_id": mine2, "feed": TypeRYSS},
			float64(time.Date(2026, 11, 20, 22, 10, 0, 0, CST).Unix())},
		{"mine_person_position_meters", map[string]string{"mine_id": mine1, "card": "32038200010100003", "axis": "x", "source": "station"}, 1400},
	}
	for _, c := range checks {
		got, ok := h.gauge(c.name, c.labels)
		if !ok {
			t.Errorf("%s%v missing", c.name, c.labels)
			continue
		}
		if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestInboxNoNameLabels(t *testing.T) {
	h := newHarness(t, nil, nil)
	copySamples(t, h.inbox)
	h.pass()
	families, err := h.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"徐静涛", "李娜平", "何强洋"}
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				for _, n := range names {
					if strings.Contains(l.GetValue(), n) {
						t.Errorf("%s has worker name %q in label %s", fam.GetName(), n, l.GetName())
					}
				}
			}
		}
	}
}
