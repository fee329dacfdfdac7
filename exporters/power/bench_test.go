package power_test

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goburrow/modbus"

	"github.com/minewatch/minewatch/exporters/power"
	"github.com/minewatch/minewatch/exporters/sim"
)

// Benchmark shape: 200 terminals of 40 float32 values each, 10 terminals
// behind each of 20 gateways.
const (
	benchGateways         = 20
	benchUnitsPerGateway  = 10
	benchValuesPerTerm    = 40
	benchRegistersPerTerm = 2 * benchValuesPerTerm
	benchServerEnv        = "MINEWATCH_POWER_BENCH_SERVER"
)

// TestMain lets the benchmark run the simulated gateways in a child
// process (this test binary with benchServerEnv set), so that the CPU
// time measured in the benchmark process is the pollers' alone.
func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) != "" {
		serveBenchGateways()
		return
	}
	os.Exit(m.Run())
}

// serveBenchGateways starts the gateways, prints their addresses as JSON
// on stdout and serves until stdin closes.
func serveBenchGateways() {
	var addrs []string
	for g := range benchGateways {
		var units []sim.GatewayUnit
		for u := 1; u <= benchUnitsPerGateway; u++ {
			unit := sim.NewStaticUnit()
			for v := range benchValuesPerTerm {
				bits := math.Float32bits(float32(100*g + 10*u + v))
				unit.SetWords("input", uint16(2*v), uint16(bits>>16), uint16(bits))
			}
			units = append(units, sim.GatewayUnit{ID: uint8(u), Source: unit})
		}
		gw, err := sim.StartPowerGateway(fmt.Sprintf("bench%d", g), "127.0.0.1:0", sim.FramingTCP, units)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		addrs = append(addrs, gw.Addr())
	}
	_ = json.NewEncoder(os.Stdout).Encode(addrs)
	_, _ = bufio.NewReader(os.Stdin).ReadString(0) // returns when the parent closes stdin
}

func startBenchServer(b *testing.B) []string {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	var addrs []string
	if err := json.NewDecoder(stdout).Decode(&addrs); err != nil {
		b.Fatalf("reading the bench server's addresses: %v", err)
	}
	return addrs
}

// cpuTime returns the user plus system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPoll200Terminals polls 200 terminals of 40 float32 values with
// this package's poller (batched reads on kept connections) and with the
// baseline that common Modbus exporters use (one value per request and a
// new connection per poll), in one run.
func BenchmarkPoll200Terminals(b *testing.B) {
	addrs := startBenchServer(b)
	totalRegisters := float64(len(addrs) * benchUnitsPerGateway * benchRegistersPerTerm)

	b.Run("batched_kept_connection", func(b *testing.B) {
		var regs []string
		for v := range benchValuesPerTerm {
			regs = append(regs, fmt.Sprintf("  - {name: v%d, address: %d, quantity: value}", v, 2*v))
		}
		mapPath := writeFileB(b, "bench.yml",
			"defaults: {table: input, type: float32}\nregisters:\n"+strings.Join(regs, "\n")+"\n")
		cfg := &power.Config{Interval: time.Hour, Timeout: 5 * time.Second}
		for g, addr := range addrs {
			gw := power.Gateway{Name: fmt.Sprintf("gw%d", g), MineID: mineID, Address: addr}
			for u := 1; u <= benchUnitsPerGateway; u++ {
				gw.Terminals = append(gw.Terminals, power.Terminal{Name: fmt.Sprintf("g%dt%d", g, u), UnitID: u, Map: mapPath})
			}
			cfg.Gateways = append(cfg.Gateways, gw)
		}
		r := newRig(b, cfg, nil)
		r.src.PollOnce() // open the connections

		var requests int64
		b.ResetTimer()
		cpu0 := cpuTime()
		for b.Loop() {
			requests += r.src.PollOnce()
		}
		cpu := cpuTime() - cpu0
		b.StopTimer()
		reportPoll(b, requests, cpu, totalRegisters)
	})

	b.Run("one_register_per_request_new_connection", func(b *testing.B) {
		var requests int64
		b.ResetTimer()
		cpu0 := cpuTime()
		for b.Loop() {
			requests += pollOneValuePerRequest(b, addrs)
		}
		cpu := cpuTime() - cpu0
		b.StopTimer()
		reportPoll(b, requests, cpu, totalRegisters)
	})
}

func reportPoll(b *testing.B, requests int64, cpu time.Duration, registers float64) {
	b.ReportMetric(float64(requests)/float64(b.N), "requests/cycle")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/(registers/1000), "cpu-µs/1000registers")
}

// pollOneValuePerRequest is the baseline: each terminal gets a new TCP
// connection per poll and one request per float32 value (two registers),
// gateways in parallel. It returns the requests sent.
func pollOneValuePerRequest(b *testing.B, addrs []string) int64 {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			for u := 1; u <= benchUnitsPerGateway; u++ {
				h := modbus.NewTCPClientHandler(addr)
				h.SlaveId = byte(u)
				h.Timeout = 5 * time.Second
				c := modbus.NewClient(h)
				for v := range benchValuesPerTerm {
					data, err := c.ReadInputRegisters(uint16(2*v), 2)
					n++
					if err != nil || len(data) != 4 {
						b.Errorf("baseline read of unit %d value %d: %v", u, v, err)
						continue
					}
					_ = math.Float32frombits(binary.BigEndian.Uint32(data))
				}
				_ = h.Close()
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}
