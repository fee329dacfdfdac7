//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minewatch/minewatch/exporters/alertrecorder"
	"github.com/minewatch/minewatch/internal/testenv"
)

// Options change how StartStack runs the stack.
type Options struct {
	// MinesimArgs are added to minesim's flags from deploy/local/minesim.args,
	// for example "--national.interval=30s". A flag already in that file
	// cannot be given again.
	MinesimArgs []string
	// Env adds variables for stack.sh, for example ALERTMANAGER_CONFIG.
	Env map[string]string
}

// Stack is a running local stack on free loopback ports.
type Stack struct {
	// Dir is the stack's STATE_DIR: data, configs, logs and the inbox.
	Dir string
	// Base URLs.
	VictoriaMetrics string
	VMAlert         string
	Alertmanager    string
	Recorder        string
	Exporter        string
	// MQTT is Mosquitto's host:port.
	MQTT string
	// ModbusBasePort replaces 15020 in the stack's configs, RTSPPort 8554.
	ModbusBasePort int
	RTSPPort       int
	// Ready is when stack.sh up returned.
	Ready time.Time

	env    []string
	script string
}

// StartStack runs `stack.sh up` with its state in a temporary folder and
// every port free, and `stack.sh down` when the test ends. When the test
// failed, the cleanup first logs every program's log tail and the alert
// state of vmalert, Alertmanager and the recorder. Tests that can share
// the local scenario use SharedStack instead.
func StartStack(t *testing.T, opts Options) *Stack {
	t.Helper()
	s := newStack(t, t.TempDir(), opts)
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpState(t)
		}
		if out, err := s.run("down"); err != nil {
			t.Errorf("stack.sh down failed: %v\n%s", err, out)
		}
	})
	if out, err := s.run("up"); err != nil {
		t.Fatalf("stack.sh up failed: %v\n%s", err, out)
	}
	s.Ready = time.Now()
	t.Logf("stack up in %s", s.Dir)
	return s
}

// SharedOptions are the options of the stack that SharedStack starts: the
// local scenario with the national files uploaded every 30s.
var SharedOptions = Options{MinesimArgs: []string{"--national.interval=30s"}}

var shared struct {
	once  sync.Once
	stack *Stack
	err   error
}

// SharedStack returns the one stack that all tests of this package share,
// starting it on the first call. The scenario plays every violation at
// once, so the tests run in parallel on one stack and the package takes
// as long as its slowest test instead of the sum. TestMain stops it.
// When the calling test fails, its cleanup logs the stack's state.
func SharedStack(t *testing.T) *Stack {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "minewatch-e2e-")
		if err != nil {
			shared.err = err
			return
		}
		s := newStack(t, dir, SharedOptions)
		if out, err := s.run("up"); err != nil {
			shared.err = fmt.Errorf("stack.sh up failed: %w\n%s", err, out)
			shared.stack = s
			return
		}
		s.Ready = time.Now()
		shared.stack = s
		t.Logf("shared stack up in %s", s.Dir)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	if shared.stack == nil {
		t.Fatal("the shared stack failed to start; see the first test's output")
	}
	s := shared.stack
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpState(t)
		}
	})
	return s
}

// stopShared stops the shared stack, if one was started, and removes its
// state unless a test failed. It returns what went wrong.
func stopShared(keep bool) error {
	s := shared.stack
	if s == nil {
		return nil
	}
	out, err := s.run("down")
	if err != nil {
		return fmt.Errorf("stack.sh down failed: %w\n%s", err, out)
	}
	if keep {
		fmt.Fprintf(os.Stderr, "e2e: a test failed; the shared stack's state stays in %s\n", s.Dir)
		return nil
	}
	return os.RemoveAll(s.Dir)
}

// newStack checks the binaries and picks free ports for a stack whose
// state goes to dir; it starts nothing.
func newStack(t testing.TB, dir string, opts Options) *Stack {
	t.Helper()
	root := testenv.RepoRoot()
	for _, name := range []string{"mine-exporter", "minesim", "alert-recorder"} {
		if _, err := os.Stat(filepath.Join(root, "bin", name)); err != nil {
			t.Fatalf("bin/%s is missing: run `make build` (make test-e2e does) first", name)
		}
	}
	testenv.Binary(t, "victoria-metrics")
	testenv.Binary(t, "vmalert")
	testenv.Binary(t, "prometheus-alertmanager")
	testenv.Binary(t, "mosquitto")

	s := &Stack{Dir: dir, script: filepath.Join(root, "deploy", "local", "stack.sh")}
	ports := map[string]int{}
	for _, name := range []string{"VM_PORT", "VMALERT_PORT", "ALERTMANAGER_PORT", "RECORDER_PORT",
		"EXPORTER_PORT", "MQTT_PORT", "RTSP_PORT", "PLUGIN_PORT"} {
		ports[name] = testenv.FreePort(t)
	}
	// Modbus gateways take consecutive ports from the base.
	ports["MODBUS_BASE_PORT"] = freePortRange(t, 80)

	env := map[string]string{"STATE_DIR": s.Dir, "MINESIM_EXTRA_ARGS": strings.Join(opts.MinesimArgs, " ")}
	for name, port := range ports {
		env[name] = strconv.Itoa(port)
	}
	maps.Copy(env, opts.Env)
	s.env = os.Environ()
	for _, name := range slices.Sorted(maps.Keys(env)) {
		s.env = append(s.env, name+"="+env[name])
	}

	base := func(name string) string { return "http://127.0.0.1:" + strconv.Itoa(ports[name]) }
	s.VictoriaMetrics = base("VM_PORT")
	s.VMAlert = base("VMALERT_PORT")
	s.Alertmanager = base("ALERTMANAGER_PORT")
	s.Recorder = base("RECORDER_PORT")
	s.Exporter = base("EXPORTER_PORT")
	s.MQTT = "127.0.0.1:" + strconv.Itoa(ports["MQTT_PORT"])
	s.ModbusBasePort = ports["MODBUS_BASE_PORT"]
	s.RTSPPort = ports["RTSP_PORT"]
	return s
}

func (s *Stack) run(command string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.script, command)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// freePortRange returns the first of n consecutive free loopback ports.
func freePortRange(t testing.TB, n int) int {
	t.Helper()
	for range 50 {
		first := testenv.FreePort(t)
		if first+n > 65535 {
			continue
		}
		var listeners []net.Listener
		ok := true
		for p := first; p < first+n; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			listeners = append(listeners, l)
		}
		for _, l := range listeners {
			l.Close()
		}
		if ok {
			return first
		}
	}
	t.Fatalf("no %d consecutive free ports found on 127.0.0.1", n)
	return 0
}

// Alerts returns every alert the recorder received so far, in order of
// receipt.
func (s *Stack) Alerts(t testing.TB) []alertrecorder.Alert {
	t.Helper()
	var records []alertrecorder.Record
	if err := getJSON(s.Recorder+"/alerts", &records); err != nil {
		t.Fatalf("reading the alert recorder: %v", err)
	}
	alerts, err := alertrecorder.Alerts(records)
	if err != nil {
		t.Fatalf("decoding recorded notifications: %v", err)
	}
	return alerts
}

// WaitForAlert waits until Alertmanager has delivered a firing alert whose
// labels include every label in want, and returns it. After timeout it
// marks the test failed, lists the alerts received, and returns false.
func (s *Stack) WaitForAlert(t testing.TB, want map[string]string, timeout time.Duration) (alertrecorder.Alert, bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		alerts := s.Alerts(t)
		for _, a := range alerts {
			if a.Status == "firing" && hasLabels(a.Labels, want) {
				return a, true
			}
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, a := range alerts {
				seen = append(seen, fmt.Sprintf("  %s %v", a.Status, a.Labels))
			}
			t.Errorf("no firing alert with labels %v delivered within %s; delivered:\n%s",
				want, timeout, strings.Join(seen, "\n"))
			return alertrecorder.Alert{}, false
		}
		time.Sleep(time.Second)
	}
}

func hasLabels(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Sample is one series of an instant query result.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query runs an instant PromQL (MetricsQL) query on VictoriaMetrics.
func (s *Stack) Query(t testing.TB, query string) []Sample {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(s.VictoriaMetrics+"/api/v1/query?query="+url.QueryEscape(query), &resp); err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	var out []Sample
	for _, r := range resp.Data.Result {
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("query %q: invalid value %v", query, r.Value[1])
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out
}

func getJSON(u string, out any) error {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: invalid JSON: %w", u, err)
	}
	return nil
}

// dumpState logs what helps to find why a test failed: each program's
// log tail and the alerts as vmalert, Alertmanager and the recorder see
// them.
func (s *Stack) dumpState(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(s.Dir, "logs", "*.log"))
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		t.Logf("--- %s (last 60 lines) ---\n%s", filepath.Base(path), lastLines(string(data), 60))
	}
	for _, u := range []string{s.VMAlert + "/api/v1/alerts", s.Alertmanager + "/api/v2/alerts", s.Recorder + "/alerts"} {
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get(u)
		if err != nil {
			t.Logf("--- %s: %v", u, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, "", "  ") != nil {
			pretty.Reset()
			pretty.Write(body)
		}
		t.Logf("--- %s ---\n%s", u, pretty.String())
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
