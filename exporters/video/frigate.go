package video

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/minewatch/minewatch/exporters/health"
)

// FrigateMessage is a message on Frigate's <prefix>/events topic.
type FrigateMessage struct {
	// Type is new, update or end.
	Type   string        `json:"type"`
	Before *FrigateEvent `json:"before"`
	After  *FrigateEvent `json:"after"`
}

// FrigateEvent is the tracked object in a Frigate event message.
type FrigateEvent struct {
	ID            string   `json:"id"`
	Camera        string   `json:"camera"`
	Label         string   `json:"label"`
	Score         float64  `json:"score"`
	FalsePositive bool     `json:"false_positive"`
	CurrentZones  []string `json:"current_zones"`
	StartTime     float64  `json:"start_time"`
	EndTime       *float64 `json:"end_time"`
}

// ParseFrigate decodes one Frigate event message.
func ParseFrigate(data []byte) (*FrigateMessage, error) {
	var m FrigateMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("invalid Frigate event JSON: %w", err)
	}
	switch m.Type {
	case "new", "update", "end":
	default:
		return nil, fmt.Errorf("Frigate event type %q must be new, update or end", m.Type)
	}
	if m.After == nil || m.After.ID == "" || m.After.Camera == "" {
		return nil, fmt.Errorf("Frigate %s event has no after.id or after.camera", m.Type)
	}
	return &m, nil
}

// Raw converts the message into a raw event: type "object", label the
// Frigate label, zones the object's current zones. A false positive is
// mapped with no label, so it matches only label-free mappings.
func (m *FrigateMessage) Raw(mineID string) Raw {
	a := m.After
	r := Raw{Format: "frigate", MineID: mineID, Camera: a.Camera, Key: "frigate/" + a.ID,
		Type: "object", Label: a.Label, Zones: a.CurrentZones, Phase: PhaseUpdate}
	switch m.Type {
	case "new":
		r.Phase = PhaseStart
	case "end":
		r.Phase = PhaseEnd
	}
	if a.FalsePositive {
		r.Label = ""
	}
	return r
}

// frigateClient subscribes to one Frigate instance's topics. The paho
// callback only queues the message, so a slow decode never blocks the
// client's network loop; a full queue drops and counts.
type frigateClient struct {
	cfg    Frigate
	engine *Engine
	health *health.Health
	logger *slog.Logger
	now    func() time.Time

	available *prometheus.GaugeVec
	queue     chan mqtt.Message
}

func newFrigateClient(cfg Frigate, engine *Engine, h *health.Health, available *prometheus.GaugeVec,
	logger *slog.Logger, now func() time.Time) *frigateClient {
	return &frigateClient{cfg: cfg, engine: engine, health: h, available: available, now: now,
		logger: logger.With("mine_id", cfg.MineID, "broker", cfg.Broker, "topic_prefix", cfg.TopicPrefix),
		queue:  make(chan mqtt.Message, cfg.QueueSize)}
}

func (f *frigateClient) target() string { return "frigate/" + f.cfg.TopicPrefix }

// Run connects, subscribes on every (re)connection and decodes queued
// messages until ctx ends.
func (f *frigateClient) Run(ctx context.Context) error {
	eventsTopic := f.cfg.TopicPrefix + "/events"
	availableTopic := f.cfg.TopicPrefix + "/available"

	clientID := f.cfg.ClientID
	if clientID == "" {
		clientID = fmt.Sprintf("mine-exporter-video-%s-%08x", f.cfg.MineID, rand.Uint32())
	}
	opts := mqtt.NewClientOptions().
		AddBroker(f.cfg.Broker).
		SetClientID(clientID).
		SetUsername(f.cfg.Username).
		SetPassword(f.cfg.Password).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(2 * time.Second).
		SetMaxReconnectInterval(30 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetOrderMatters(false)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		// A clean session forgets subscriptions, so every connection
		// subscribes again.
		token := c.SubscribeMultiple(map[string]byte{eventsTopic: 1, availableTopic: 1}, f.enqueue)
		go func() {
			// NOTE: a failed SUBSCRIBE is not retried: the topics stay
			// unsubscribed (and the target down) until the next reconnection.
			if !token.WaitTimeout(10*time.Second) || token.Error() != nil {
				f.health.Failure(f.cfg.MineID, sourceName, f.target(), "subscribe_failed")
				f.logger.Error("subscribing to Frigate topics failed, no events until the next reconnection",
					"topics", eventsTopic+","+availableTopic, "err", token.Error())
				return
			}
			f.health.Success(f.cfg.MineID, sourceName, f.target(), f.now())
			f.logger.Info("subscribed to Frigate topics", "topics", eventsTopic+","+availableTopic)
		}()
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		f.health.Failure(f.cfg.MineID, sourceName, f.target(), "connection_lost")
		f.logger.Warn("MQTT connection lost, reconnecting", "err", err)
	})

	client := mqtt.NewClient(opts)
	client.Connect() // with ConnectRetry the token completes only once connected
	defer client.Disconnect(250)

	for {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-f.queue:
			f.handle(msg.Topic(), msg.Payload(), availableTopic)
		}
	}
}

// enqueue is paho's message handler; it never blocks.
func (f *frigateClient) enqueue(_ mqtt.Client, msg mqtt.Message) {
	select {
	case f.queue <- msg:
	default:
		f.engine.Drop(f.cfg.MineID, "frigate", "queue_full")
	}
}

func (f *frigateClient) handle(topic string, payload []byte, availableTopic string) {
	if topic == availableTopic {
		online := strings.TrimSpace(string(payload)) == "online"
		value := 0.0
		if online {
			value = 1
		}
		f.available.WithLabelValues(f.cfg.MineID, f.cfg.TopicPrefix).Set(value)
		return
	}

	msg, err := ParseFrigate(payload)
	if err != nil {
		f.engine.Drop(f.cfg.MineID, "frigate", "invalid_json")
		f.health.Error(f.cfg.MineID, sourceName, f.target(), "invalid_json")
		f.logger.Debug("Frigate message dropped", "topic", topic, "err", err)
		return
	}
	if err := f.engine.Observe(msg.Raw(f.cfg.MineID)); err != nil {
		f.health.Error(f.cfg.MineID, sourceName, f.target(), "unknown_camera")
		f.logger.Debug("Frigate event dropped", "topic", topic, "err", err)
		return
	}
	f.health.Success(f.cfg.MineID, sourceName, f.target(), f.now())
}
