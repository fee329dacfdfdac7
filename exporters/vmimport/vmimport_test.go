package vmimport

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minewatch/minewatch/internal/testenv"
)

func TestAppendLineEscapes(t *testing.T) {
	got := string(AppendLine(nil, "mine_x", []Label{{"mine_id", "1"}, {"note", "a\"b\\c\nd"}}, 1.5, 1700000000123))
	want := "mine_x{mine_id=\"1\",note=\"a\\\"b\\\\c\\nd\"} 1.5 1700000000123\n"
	if got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

func TestBackoffDoublesToMax(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 3 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}
	for i, w := range want {
		if got := b.Next(); got != w {
			t.Errorf("wait %d = %v, want %v", i, got, w)
		}
	}
	b.Reset()
	if got := b.Next(); got != time.Second {
		t.Errorf("wait after reset = %v, want 1s", got)
	}
}

func exportSeries(t *testing.T, addr, selector, user, password string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/export?"+
		url.Values{"match[]": {selector}}.Encode(), nil)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func TestWriteWithBasicAuth(t *testing.T) {
	vm := testenv.VictoriaMetrics(t, "-httpAuth.username=writer", "-httpAuth.password=secret")
	ts := time.Date(2026, 11, 20, 14, 15, 0, 0, time.UTC).UnixMilli()
	body := AppendLine(nil, "mine_test_value", []Label{{"mine_id", "320382000101"}}, 42, ts)

	bad := New(Config{URL: "http://" + vm.Addr, Username: "writer", Password: "wrong", Attempts: 1})
	err := bad.Write(context.Background(), body)
	if !IsPermanent(err) {
		t.Errorf("write with a wrong password: %v, want a permanent error", err)
	}

	good := New(Config{URL: "http://" + vm.Addr + "/", Username: "writer", Password: "secret"})
	if err := good.Write(context.Background(), body); err != nil {
		t.Fatalf("write: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+vm.Addr+"/internal/force_flush", nil)
	req.SetBasicAuth("writer", "secret")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	out := exportSeries(t, vm.Addr, `mine_test_value`, "writer", "secret")
	if !strings.Contains(out, `"values":[42]`) {
		t.Errorf("export = %s, want value 42", out)
	}
	if !strings.Contains(out, strconv.FormatInt(ts, 10)) {
		t.Errorf("export = %s, want timestamp %d (milliseconds)", out, ts)
	}
}

func TestWriteToStoppedServerFails(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	c := New(Config{URL: "http://" + addr, Attempts: 2, RetryMin: 10 * time.Millisecond, Timeout: 2 * time.Second})
	err := c.Write(context.Background(), AppendLine(nil, "m", nil, 1, 1))
	if err == nil {
		t.Fatal("write to a closed port succeeded")
	}
	if IsPermanent(err) {
		t.Errorf("connection refused counted as permanent: %v", err)
	}
}
