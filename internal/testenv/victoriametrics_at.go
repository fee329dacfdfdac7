package testenv

import "testing"

// VictoriaMetricsAt starts a single-node VictoriaMetrics on a given
// loopback address and data folder, so that a test can stop it and start
// it again on the same URL with the same data, for example to check what
// a writer does while VictoriaMetrics is down.
func VictoriaMetricsAt(t testing.TB, addr, dataDir string) *Process {
	t.Helper()
	args := []string{
		"-httpListenAddr=" + addr,
		"-storageDataPath=" + dataDir,
		"-retentionPeriod=100y",
		"-search.disableCache",
		"-loggerLevel=WARN",
	}
	p := Start(t, "victoria-metrics", args, addr, HTTPReady("http://"+addr+"/health"))
	p.Dir = dataDir
	return p
}
