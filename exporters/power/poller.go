package power

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/minewatch/minewatch/exporters/registry"
)

// sourceName is the source label of this package's health metrics.
const sourceName = "power"

// maxBackoff caps how many intervals a terminal that stopped replying
// waits between polls, so that on a shared bus it costs at most one
// timeout per maxBackoff intervals.
const maxBackoff = 8

// sample is one decoded value and the time it was read.
type sample struct {
	value float64
	at    time.Time
}

// terminal is the polling state and the latest values of one terminal.
type terminal struct {
	cfg     *Terminal
	gateway *Gateway
	batches []Batch

	mu     sync.Mutex
	values map[*Register]sample

	// Owned by the gateway's poller goroutine.
	next       time.Time
	failures   int
	lastEnergy float64
	haveEnergy bool
	// reason is the failure last logged, empty while the terminal replies.
	reason string
}

// gatewayPoller polls the terminals of one gateway, one request at a time.
type gatewayPoller struct {
	src       *Source
	cfg       *Gateway
	link      *link
	terminals []*terminal
}

func (g *gatewayPoller) run(ctx context.Context) {
	defer g.link.close()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		t := g.terminals[0]
		for _, c := range g.terminals[1:] {
			if c.next.Before(t.next) {
				t = c
			}
		}
		if wait := time.Until(t.next); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		ok := g.poll(t)
		g.schedule(t, ok, time.Now())
	}
}

// schedule sets the next poll of t: one interval on, skipping missed
// cycles, and backing off while the terminal does not reply.
func (g *gatewayPoller) schedule(t *terminal, ok bool, now time.Time) {
	interval := t.cfg.Interval
	if ok {
		t.failures = 0
	} else {
		t.failures++
		interval *= time.Duration(min(1<<min(t.failures-1, 10), maxBackoff))
	}
	if t.next.IsZero() {
		t.next = now
	}
	t.next = t.next.Add(interval)
	if !t.next.After(now) {
		t.next = now.Add(interval)
	}
}

// pollAll polls every terminal once, in order. Benchmarks and tests call
// it to run one poll cycle of the gateway.
func (g *gatewayPoller) pollAll() {
	for _, t := range g.terminals {
		g.poll(t)
	}
}

// poll reads every batch of t and stores the values. It returns false
// when the terminal did not reply (timeout, reset, broken reply), which
// also ends the poll: the remaining batches would only cost more timeouts.
// A Modbus exception fails only its batch.
func (g *gatewayPoller) poll(t *terminal) bool {
	src := g.src
	mineID := g.cfg.MineID
	name := t.cfg.Name
	allOK := true
	for i := range t.batches {
		b := &t.batches[i]
		src.requests.WithLabelValues(mineID, name).Inc()
		src.requestCount.Add(1)
		data, err := g.link.read(byte(t.cfg.UnitID), t.cfg.Timeout, b)
		if err != nil {
			reason, reopen := classify(err, functionCode(b.Table))
			src.health.Failure(mineID, sourceName, name, reason)
			src.logFailure(t, b, reason, err)
			allOK = false
			if reopen {
				g.link.close()
				return false
			}
			continue
		}
		g.store(t, b, data)
	}
	if allOK {
		now := src.now()
		src.health.Success(mineID, sourceName, name, now)
		src.markData(g.cfg, now)
		src.logRecovery(t)
	}
	return true
}

// store decodes a batch reply into t's values.
func (g *gatewayPoller) store(t *terminal, b *Batch, data []byte) {
	src := g.src
	now := src.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range b.Registers {
		off := int(r.Address - b.Start)
		var v float64
		if r.Type == TypeBool {
			v = r.DecodeBit(data[off/8]&(1<<(off%8)) != 0)
		} else {
			var err error
			v, err = r.Decode(data[off*2 : off*2+int(r.Width())*2])
			if err != nil {
				src.health.Error(g.cfg.MineID, sourceName, t.cfg.Name, "invalid_value")
				continue
			}
		}
		t.values[r] = sample{value: v, at: now}
		if r.Quantity == QuantityActiveEnergy {
			src.addBeltEnergy(g.cfg.MineID, t, v)
		}
	}
}

// addBeltEnergy adds the energy a belt terminal drew since its last read
// to the mine's output estimate. A falling meter (reset or replacement)
// adds nothing. Called with t.mu held.
func (s *Source) addBeltEnergy(mineID string, t *terminal, joules float64) {
	prev, had := t.lastEnergy, t.haveEnergy
	t.lastEnergy, t.haveEnergy = joules, true
	factor, ok := s.cfg.BeltTonnesPerKWh[mineID]
	if !ok || !had || joules <= prev {
		return
	}
	mc := s.registry.Load().Mine(mineID).Machine(t.cfg.Name)
	if mc == nil || mc.Class != registry.MachineBelt {
		return
	}
	s.outputMu.Lock()
	s.output[mineID] += (joules - prev) / 3.6e6 * factor
	s.outputMu.Unlock()
}

// logFailure logs a failure when its reason differs from the last one
// logged; repeats are counted in mine_source_errors_total only.
func (s *Source) logFailure(t *terminal, b *Batch, reason string, err error) {
	if reason == t.reason {
		return
	}
	t.reason = reason
	s.logger.Warn("power terminal read failed",
		"mine_id", t.gateway.MineID, "gateway", t.gateway.Name, "terminal", t.cfg.Name,
		"unit_id", t.cfg.UnitID, "table", b.Table, "address", b.Start, "count", b.Count,
		"reason", reason, "err", describeFailure(t, b, reason, err))
}

func (s *Source) logRecovery(t *terminal) {
	if t.reason == "" {
		return
	}
	t.reason = ""
	s.logger.Info("power terminal replies again",
		"mine_id", t.gateway.MineID, "gateway", t.gateway.Name, "terminal", t.cfg.Name)
}

// describeFailure describes what failed and what to check next.
func describeFailure(t *terminal, b *Batch, reason string, err error) string {
	target := t.gateway.Address
	if target == "" {
		target = t.gateway.Device
	}
	what := fmt.Sprintf("modbus read of %d %s registers from %d on terminal %s (unit %d, %s)",
		b.Count, b.Table, b.Start, t.cfg.Name, t.cfg.UnitID, target)
	switch reason {
	case "timeout":
		return fmt.Sprintf("%s timed out after %s; the connection is reopened: check the unit id and wiring", what, t.cfg.Timeout)
	case "exception_2":
		return fmt.Sprintf("%s: %v; mark the rejected addresses as a gap in the register map", what, err)
	case "connect_failed":
		return fmt.Sprintf("%s: %v; check the gateway address and that it is powered", what, err)
	}
	return fmt.Sprintf("%s: %v", what, err)
}
