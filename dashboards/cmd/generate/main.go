// Command generate writes the Minewatch Grafana dashboards as JSON, one
// <uid>.json per dashboard. Run it from the dashboards folder:
//
//	go run ./cmd/generate
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/minewatch/minewatch/dashboards"
)

func main() {
	out := flag.String("out", "generated", "folder to write the dashboard JSON files into")
	flag.Parse()

	paths, err := dashboards.WriteAll(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
	for _, p := range paths {
		fmt.Println(p)
	}
}
