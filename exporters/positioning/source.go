// Package positioning ingests UWB tag positions that positioning systems
// publish over MQTT, keeps the live state of every person, vehicle and
// equipment tag, and derives the safety signals: persons per area,
// persons in restricted areas, SOS, time underground, the nearest person
// to each vehicle and the displacement of equipment.
package positioning

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/minewatch/minewatch/exporters/health"
)

// SourceName is the source label of the health metrics.
const SourceName = "positioning"

// message is one received MQTT message waiting in the queue.
type message struct {
	topic    string
	payload  []byte
	received time.Time
}

// Source subscribes to the configured topics and applies every message to
// the live state.
type Source struct {
	cfg    *Config
	state  *State
	health *health.Health
	logger *slog.Logger
	now    func() time.Time
	target string

	queue chan message

	// Counters readable by tests and benchmarks.
	processed atomic.Uint64
	dropped   atomic.Uint64
	broken    atomic.Uint64
	connects  atomic.Uint64
	losses    atomic.Uint64

	mu        sync.Mutex
	healthAt  map[string]time.Time
	connected bool

	// Broken messages are logged once per reason and dropLogInterval, so
	// that a misconfigured sender cannot flood the log. Only the process
	// goroutine reads and writes these maps.
	dropLoggedAt  map[string]time.Time
	dropsSinceLog map[string]int
}

// dropLogInterval is the minimum time between two log lines about broken
// messages of the same reason.
const dropLogInterval = time.Minute

// NewSource returns a source that feeds state. It connects when Run starts.
func NewSource(cfg *Config, state *State, h *health.Health, logger *slog.Logger, now func() time.Time) *Source {
	target := cfg.Broker
	if u, err := url.Parse(cfg.Broker); err == nil {
		target = u.Host
	}
	return &Source{
		cfg: cfg, state: state, health: h, now: now, target: target,
		logger:   logger.With("source", SourceName, "broker", target),
		queue:    make(chan message, cfg.QueueSize),
		healthAt: map[string]time.Time{},

		dropLoggedAt:  map[string]time.Time{},
		dropsSinceLog: map[string]int{},
	}
}

// Stats are the source's message counters since it started.
type Stats struct {
	// Processed messages were decoded and applied, or rejected by the tag
	// maximum.
	Processed uint64
	// Dropped messages found the queue full.
	Dropped uint64
	// Broken messages could not be decoded.
	Broken uint64
	// Connects counts successful connections; Losses counts lost ones.
	Connects uint64
	Losses   uint64
}

// Stats returns the counters.
func (s *Source) Stats() Stats {
	return Stats{Processed: s.processed.Load(), Dropped: s.dropped.Load(), Broken: s.broken.Load(),
		Connects: s.connects.Load(), Losses: s.losses.Load()}
}

// ClientOptions builds the paho options: persistent session with a fixed
// client id, automatic reconnects, and subscriptions made again in
// OnConnect after every connect, because a broker that restarted without
// persistence has forgotten them.
func (s *Source) ClientOptions() (*mqtt.ClientOptions, error) {
	opts := mqtt.NewClientOptions().
		AddBroker(s.cfg.Broker).
		SetClientID(s.cfg.ClientID).
		SetCleanSession(s.cfg.CleanSession).
		SetKeepAlive(s.cfg.KeepAlive).
		SetPingTimeout(s.cfg.KeepAlive).
		SetConnectTimeout(s.cfg.ConnectTimeout).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).
		SetResumeSubs(false).
		SetOrderMatters(true).
		SetDefaultPublishHandler(s.receive).
		SetOnConnectHandler(s.onConnect).
		SetConnectionLostHandler(s.onConnectionLost).
		SetReconnectingHandler(func(mqtt.Client, *mqtt.ClientOptions) {
			s.logger.Info("reconnecting to MQTT broker")
		})
	if s.cfg.Username != "" {
		opts.SetUsername(s.cfg.Username)
		opts.SetPassword(s.cfg.Password)
	}
	if s.cfg.TLS != nil {
		tc, err := tlsConfig(s.cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts.SetTLSConfig(tc)
	}
	return opts, nil
}

func tlsConfig(c *TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cannot load tls.cert_file %s and tls.key_file %s: %w", c.CertFile, c.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Run connects, processes messages and expires tags until ctx ends.
func (s *Source) Run(ctx context.Context) error {
	opts, err := s.ClientOptions()
	if err != nil {
		return err
	}
	client := mqtt.NewClient(opts)
	s.logger.Info("connecting to MQTT broker", "client_id", s.cfg.ClientID)
	client.Connect()
	defer client.Disconnect(250)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.process(ctx)
	}()
	go func() {
		defer wg.Done()
		s.expireLoop(ctx)
	}()
	wg.Wait()
	return nil
}

// receive runs in paho's message router, which also carries the
// acknowledgements and keepalive responses: it only queues the message
// and, when the queue is full, drops and counts it.
func (s *Source) receive(_ mqtt.Client, m mqtt.Message) {
	msg := message{topic: m.Topic(), payload: m.Payload(), received: s.now()}
	select {
	case s.queue <- msg:
	default:
		s.dropped.Add(1)
		s.health.Error(s.mineOfTopic(msg.topic), SourceName, s.target, ReasonQueueFull)
	}
}

// mineOfTopic returns the mine id from the first matching pattern, or "".
func (s *Source) mineOfTopic(topic string) string {
	for i := range s.cfg.Topics {
		t := &s.cfg.Topics[i]
		if mine, _, ok := t.match(topic); ok {
			if t.MineID != "" {
				return t.MineID
			}
			return mine
		}
	}
	return ""
}

func (s *Source) onConnect(c mqtt.Client) {
	s.connects.Add(1)
	filters := map[string]byte{}
	for i := range s.cfg.Topics {
		filters[s.cfg.Topics[i].Filter()] = *s.cfg.QoS
	}
	s.logger.Info("connected to MQTT broker, subscribing", "topics", len(filters))
	tok := c.SubscribeMultiple(filters, nil)
	go func() {
		if !tok.WaitTimeout(s.cfg.ConnectTimeout) {
			s.logger.Error("MQTT subscribe timed out; the client reconnects and retries", "timeout", s.cfg.ConnectTimeout)
			return
		}
		if err := tok.Error(); err != nil {
			s.logger.Error("MQTT subscribe failed", "err", err)
			return
		}
		s.mu.Lock()
		s.connected = true
		s.mu.Unlock()
	}()
}

func (s *Source) onConnectionLost(_ mqtt.Client, err error) {
	s.losses.Add(1)
	s.logger.Warn("connection to MQTT broker lost; reconnecting", "err", err)
	s.mu.Lock()
	s.connected = false
	mines := make([]string, 0, len(s.healthAt))
	for id := range s.healthAt {
		mines = append(mines, id)
		delete(s.healthAt, id)
	}
	s.mu.Unlock()
	for _, id := range mines {
		s.health.Failure(id, SourceName, s.target, "connection_lost")
	}
}

// process decodes queued messages one at a time until ctx ends.
func (s *Source) process(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-s.queue:
			s.handle(m)
		}
	}
}

// handle decodes one message with the first topic pattern that matches it
// and applies it. A broken message is counted by reason and dropped alone.
func (s *Source) handle(m message) {
	for i := range s.cfg.Topics {
		t := &s.cfg.Topics[i]
		mine, tag, ok := t.match(m.topic)
		if !ok {
			continue
		}
		u, derr := t.decode(mine, tag, m.payload, m.received)
		if derr != nil {
			s.broken.Add(1)
			s.health.Error(derr.mineID, SourceName, s.target, derr.reason)
			s.logDrop(m, derr.mineID, derr.reason)
			return
		}
		if !s.state.Apply(u, m.received) {
			s.health.Error(u.MineID, SourceName, s.target, ReasonTagLimit)
		}
		s.processed.Add(1)
		s.markHealthy(u.MineID, m.received)
		return
	}
	s.broken.Add(1)
	s.health.Error("", SourceName, s.target, ReasonUnknownTopic)
	s.logDrop(m, "", ReasonUnknownTopic)
}

// logDrop logs a broken message with its topic and reason, at most once per
// reason and dropLogInterval. The line counts the drops of that reason since
// the previous line, this one included.
func (s *Source) logDrop(m message, mineID, reason string) {
	s.dropsSinceLog[reason]++
	if last, ok := s.dropLoggedAt[reason]; ok && m.received.Sub(last) < dropLogInterval {
		return
	}
	s.logger.Warn("MQTT message dropped", "reason", reason, "mine_id", mineID, "topic", m.topic,
		"dropped_since_last_line", s.dropsSinceLog[reason])
	s.dropLoggedAt[reason] = m.received
	s.dropsSinceLog[reason] = 0
}

// markHealthy records a success for the mine at most once a second.
func (s *Source) markHealthy(mineID string, at time.Time) {
	s.mu.Lock()
	last, ok := s.healthAt[mineID]
	if ok && at.Sub(last) < time.Second {
		s.mu.Unlock()
		return
	}
	s.healthAt[mineID] = at
	s.mu.Unlock()
	s.health.Success(mineID, SourceName, s.target, at)
}

// expireLoop sweeps expired tags out of the state. Scrapes skip expired
// tags on their own, so the sweep only frees memory.
func (s *Source) expireLoop(ctx context.Context) {
	interval := min(max(s.cfg.TagExpiry/4, 100*time.Millisecond), 10*time.Second)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n := s.state.Expire(s.now()); n > 0 {
				s.logger.Debug("tags expired", "tags", n)
			}
		}
	}
}

// Connected reports whether the client is connected and subscribed.
func (s *Source) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}
