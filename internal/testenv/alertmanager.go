package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Alertmanager starts Debian's prometheus-alertmanager with the given
// config (YAML text) on a free loopback port, with clustering off and its
// data in a temporary folder. Its base URL is "http://" + Addr.
func Alertmanager(t testing.TB, config string) *Process {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	args := []string{
		"--config.file=" + path,
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		// An empty address turns the gossip cluster off, so parallel
		// instances never find each other.
		"--cluster.listen-address=",
		"--log.level=warn",
	}
	p := Start(t, "prometheus-alertmanager", args, addr, HTTPReady("http://"+addr+"/-/ready"))
	p.Dir = dir
	return p
}
