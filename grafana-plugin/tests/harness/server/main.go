// Command harness serves the browser test page of the mine map panel the
// way Grafana would: the app's resource API at
// /api/plugins/<app id>/resources/ (the real backend handlers), a
// Prometheus-compatible data source proxied at
// /api/datasources/proxy/uid/<uid>/, and the harness bundle as static
// files. It listens on loopback only and prints its URL on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/minewatch/minewatch/grafana-plugin/pkg/plugin"
)

const appID = "minewatch-minewatch-app"

func main() {
	listen := flag.String("listen", "127.0.0.1:3300", "address to listen on (host:port; port 0 picks a free one)")
	static := flag.String("static", "", "folder of the built harness page")
	plans := flag.String("plans", "", "plans folder, as the app's plansFolder setting")
	prom := flag.String("prometheus", "", "base URL of the Prometheus-compatible server behind data source uid \"vm\"")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	host, _, err := net.SplitHostPort(*listen)
	if err != nil || (host != "127.0.0.1" && host != "localhost" && host != "::1") {
		logger.Error("The harness listens on loopback only", "listen", *listen)
		os.Exit(2)
	}
	target, err := url.Parse(*prom)
	if err != nil || target.Host == "" {
		logger.Error("Invalid -prometheus URL", "prometheus", *prom, "error", err)
		os.Exit(2)
	}

	settings, _ := json.Marshal(map[string]string{"plansFolder": *plans})
	inst, err := plugin.NewApp(context.Background(), backend.AppInstanceSettings{JSONData: settings})
	if err != nil {
		logger.Error("Creating the app failed", "error", err)
		os.Exit(1)
	}
	app := inst.(*plugin.App)

	mux := http.NewServeMux()
	resources := "/api/plugins/" + appID + "/resources"
	mux.Handle(resources+"/", http.StripPrefix(resources, app.Handler()))

	proxy := httputil.NewSingleHostReverseProxy(target)
	dsPrefix := "/api/datasources/proxy/uid/vm"
	mux.Handle(dsPrefix+"/", http.StripPrefix(dsPrefix, proxy))
	mux.Handle("/", http.FileServer(http.Dir(*static)))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("Listening failed", "listen", *listen, "error", err)
		os.Exit(1)
	}
	fmt.Printf("harness listening on http://%s/\n", ln.Addr())
	srv := &http.Server{Handler: mux}
	if err := srv.Serve(ln); err != nil {
		logger.Error("Serving failed", "error", err)
		os.Exit(1)
	}
}
