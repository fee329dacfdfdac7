package national

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/exporters/vmimport"
	"github.com/minewatch/minewatch/internal/testenv"
)

func vmClient(addr string) *vmimport.Client {
	return vmimport.New(vmimport.Config{URL: "http://" + addr, Timeout: 5 * time.Second, Attempts: 1})
}

// drain runs passes until the inbox has no files left or the deadline
// passes.
func (h *harness) drain() {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		h.pass()
		if h.inboxFiles() == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("%d files still in the inbox after 60s", h.inboxFiles())
}

func (h *harness) inboxFiles() int {
	n := 0
	for _, folder := range h.src.mineFolders() {
		entries, _ := os.ReadDir(filepath.Join(h.inbox, folder))
		n += len(entries)
	}
	return n
}

// queryAt evaluates an instant query at t and returns the single result.
func queryAt(t *testing.T, vm *testenv.Process, query string, at time.Time) (float64, bool) {
	t.Helper()
	u := "http://" + vm.Addr + "/api/v1/query?" + url.Values{
		"query": {query}, "time": {strconv.FormatInt(at.Unix(), 10)}}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode answer to %s: %v", query, err)
	}
	if len(body.Data.Result) == 0 {
		return 0, false
	}
	if len(body.Data.Result) > 1 {
		t.Fatalf("query %s returned %d series, want 1", query, len(body.Data.Result))
	}
	v, err := strconv.ParseFloat(body.Data.Result[0].Value[1].(string), 64)
	if err != nil {
		t.Fatalf("value of %s: %v", query, err)
	}
	return v, true
}

// exported returns the timestamps (ms) of every stored sample matching a
// series selector.
func exported(t *testing.T, vm *testenv.Process, selector string) []int64 {
	t.Helper()
	u := "http://" + vm.Addr + "/api/v1/export?" + url.Values{"match[]": {selector}}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("export %s: %v", selector, err)
	}
	defer resp.Body.Close()
	var out []int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct {
			Timestamps []int64 `json:"timestamps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("decode export line: %v", err)
		}
		out = append(out, line.Timestamps...)
	}
	return out
}

func cst(hour, minute int) time.Time {
	return time.Date(2026, 11, 20, hour, minute, 0, 0, CST)
}

// undergroundIn counts records with in/out flag 1 in a sample RYSS file,
// read with a plain split independent of the parser.
func undergroundIn(t *testing.T, mineID, name string) float64 {
	n := 0
	for _, rec := range strings.Split(string(sampleFile(t, mineID, name)), "~")[1:] {
		fields := strings.Split(strings.TrimSpace(rec), ";")
		if len(fields) == 15 && fields[2] == "1" {
			n++
		}
	}
	return float64(n)
}

func TestInboxVictoriaMetricsSamples(t *testing.T) {
	vm := testenv.VictoriaMetrics(t)
	h := newHarness(t, nil, vmClient(vm.Addr))
	total := copySamples(t, h.inbox)
	h.drain()
	testenv.Flush(t, vm)

	if got := h.files(mine1, TypeRYSS, OutcomeDone) + h.files(mine2, TypeRYSS, OutcomeDone); got != 4 {
		t.Errorf("RYSS files done = %v, want 4", got)
	}
	done := 0
	for _, m := range []string{mine1, mine2} {
		entries, _ := os.ReadDir(filepath.Join(h.inbox, "done", m))
		done += len(entries)
	}
	if done != total {
		t.Errorf("%d files in done/, want %d", done, total)
	}

	checks := []struct {
		query string
		at    time.Time
		want  float64
	}{
		{`mine_underground_persons{mine_id="320382000101"}`, cst(22, 15),
			undergroundIn(t, mine1, "320382000101_RYSS_20261120221500.txt")},
		{`mine_underground_persons{mine_id="320382000202"}`, cst(22, 0),
			undergroundIn(t, mine2, "320382000202_RYSS_20261120220000.txt")},
		{`mine_underground_persons{mine_id="320382000202"}`, cst(22, 10),
			undergroundIn(t, mine2, "320382000202_RYSS_20261120221000.txt")},
		{`mine_area_persons{mine_id="320382000101",area="3203820001010004"}`, cst(22, 15), 21},
		{`mine_area_persons_limit{mine_id="320382000101",area="3203820001010004"}`, cst(22, 15), 16},
		{`mine_area_persons{mine_id="320382000101",area_type="restricted"}`, cst(22, 15), 1},
		{`mine_output_tonnes_total{mine_id="320382000202",source="cdss"}`, cst(22, 0), 900},
		{`mine_output_tonnes_total{mine_id="320382000202",source="cdss"}`, cst(22, 5), 938.5},
		{`mine_output_tonnes_total{mine_id="320382000202",source="cdss"}`, cst(22, 10), 981.2},
		{`mine_equipment_on{mine_id="320382000202"}`, cst(22, 10), 1},
		{`mine_station_up{mine_id="320382000101",station="3203820001010012000001"}`, cst(22, 15), 1},
		{`mine_national_approved_underground_persons{mine_id="320382000101"}`, cst(22, 15), 120},
		{`mine_feed_last_data_timestamp_seconds{mine_id="320382000202",feed="CDSS"}`, cst(22, 10),
			float64(cst(22, 10).Unix())},
	}
	for _, c := range checks {
		got, ok := queryAt(t, vm, c.query, c.at)
		if !ok {
			t.Errorf("%s at %s: no data", c.query, c.at.Format(time.DateTime))
			continue
		}
		if got != c.want {
			t.Errorf("%s at %s = %v, want %v", c.query, c.at.Format(time.DateTime), got, c.want)
		}
	}

	// Samples carry the file's data time, in milliseconds.
	stamps := exported(t, vm, `mine_underground_persons{mine_id="320382000202"}`)
	want := []int64{cst(22, 0).UnixMilli(), cst(22, 5).UnixMilli(), cst(22, 10).UnixMilli()}
	if len(stamps) != len(want) {
		t.Fatalf("stored samples of mine 320382000202 headcount: %v, want %v", stamps, want)
	}
	for i := range want {
		if stamps[i] != want[i] {
			t.Errorf("sample %d at %d, want %d", i, stamps[i], want[i])
		}
	}
}

func TestInboxVictoriaMetricsDown(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	h := newHarness(t, nil, vmClient(addr))
	names := []string{"320382000202_RYQY_20261120220000.txt", "320382000202_RYSS_20261120220000.txt",
		"320382000202_RYSS_20261120220500.txt"}
	for _, n := range names {
		h.put(mine2, n, sampleFile(t, mine2, n))
	}

	for i := 0; i < 2; i++ {
		if retry := h.pass(); retry <= 0 {
			t.Fatalf("pass %d with VictoriaMetrics down returned no retry wait", i)
		}
	}
	for _, n := range names {
		h.assertWaiting(mine2, n)
	}
	if got := h.files(mine2, TypeRYQY, OutcomeDone) + h.files(mine2, TypeRYQY, OutcomeRejected); got != 0 {
		t.Errorf("files counted while VictoriaMetrics is down = %v, want 0", got)
	}

	vm := testenv.VictoriaMetricsAt(t, addr, t.TempDir())
	h.drain()
	h.pass()
	testenv.Flush(t, vm)
	for _, n := range names {
		h.assertDone(mine2, n)
	}
	if got := h.files(mine2, TypeRYSS, OutcomeDone); got != 2 {
		t.Errorf("RYSS files done = %v, want 2", got)
	}
	stamps := exported(t, vm, `mine_underground_persons{mine_id="320382000202"}`)
	if len(stamps) != 2 {
		t.Errorf("stored headcount samples = %v, want exactly 2 (one per RYSS file)", stamps)
	}
}

func TestInboxRestartNoDoubleImport(t *testing.T) {
	vm := testenv.VictoriaMetrics(t)
	inbox := t.TempDir()
	first := newHarnessAt(t, inbox, nil, vmClient(vm.Addr))
	copySamples(t, inbox)
	first.drain()

	// A crash after the import and before the move: block the move by a
	// plain file where the done folder of mine 2 would be.
	late := "320382000202_RYSS_20261120221500.txt"
	data := strings.ReplaceAll(string(sampleFile(t, mine2, "320382000202_RYSS_20261120221000.txt")),
		"2026-11-20 22:10:00~", "2026-11-20 22:15:00~")
	doneMine2 := filepath.Join(inbox, "done", mine2)
	if err := os.Rename(doneMine2, doneMine2+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doneMine2, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	first.put(mine2, late, []byte(data))
	first.pass()
	first.assertWaiting(mine2, late)

	// Restart: a new source on the same inbox.
	if err := os.Remove(doneMine2); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(doneMine2+".moved", doneMine2); err != nil {
		t.Fatal(err)
	}
	second := newHarnessAt(t, inbox, nil, vmClient(vm.Addr))
	if got, ok := second.gauge("mine_underground_persons", map[string]string{"mine_id": mine1}); !ok ||
		got != undergroundIn(t, mine1, "320382000101_RYSS_20261120221500.txt") {
		t.Errorf("restored headcount of mine 1 = %v (present %v)", got, ok)
	}
	second.drain()
	second.assertDone(mine2, late)

	// A re-upload of an ingested file is set aside, not imported.
	again := "320382000202_RYSS_20261120220500.txt"
	second.put(mine2, again, sampleFile(t, mine2, again))
	second.pass()
	second.assertRejected(mine2, again, ReasonDuplicate)

	testenv.Flush(t, vm)
	stamps := exported(t, vm, `mine_underground_persons{mine_id="320382000202"}`)
	want := []int64{cst(22, 0).UnixMilli(), cst(22, 5).UnixMilli(), cst(22, 10).UnixMilli(), cst(22, 15).UnixMilli()}
	if len(stamps) != len(want) {
		t.Fatalf("stored headcount samples of mine 2 = %v, want one per file %v", stamps, want)
	}
	for i := range want {
		if stamps[i] != want[i] {
			t.Errorf("sample %d at %d, want %d", i, stamps[i], want[i])
		}
	}
}
