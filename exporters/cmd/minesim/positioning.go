package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/minewatch/minewatch/exporters/sim"
)

var positioningFlags struct {
	broker   string
	clientID string
	qos      uint8
	username string
	password string
}

func init() {
	addChannel(channel{
		name: "positioning",
		flags: func(a *kingpin.Application) {
			a.Flag("positioning.broker", "MQTT broker URL to publish simulated UWB tags to, for example tcp://127.0.0.1:1883. Empty disables the channel.").
				StringVar(&positioningFlags.broker)
			a.Flag("positioning.client-id", "MQTT client id of the publisher.").
				Default("minesim-positioning").StringVar(&positioningFlags.clientID)
			a.Flag("positioning.qos", "QoS of the published tag messages, 0 or 1.").
				Default("0").Uint8Var(&positioningFlags.qos)
			a.Flag("positioning.username", "MQTT username.").StringVar(&positioningFlags.username)
			a.Flag("positioning.password", "MQTT password.").StringVar(&positioningFlags.password)
		},
		enabled: func() bool { return positioningFlags.broker != "" },
		run:     runPositioning,
	})
}

// runPositioning publishes the tags of every mine that has a positioning
// section until ctx ends.
func runPositioning(ctx context.Context, s *sim.Scenario, logger *slog.Logger) error {
	if positioningFlags.qos > 1 {
		return fmt.Errorf("--positioning.qos %d is invalid, expected 0 or 1", positioningFlags.qos)
	}
	var sims []*sim.TagSim
	var mines []*sim.Mine
	for i := range s.Mines {
		m := &s.Mines[i]
		cfg, err := sim.DecodePositioning(m)
		if err != nil {
			return err
		}
		if cfg == nil {
			continue
		}
		layout, err := sim.LoadPlanLayout(s.Path(cfg.Plan))
		if err != nil {
			return fmt.Errorf("mine %s: %w", m.ID, err)
		}
		sims = append(sims, sim.NewTagSim(m.ID, cfg, layout))
		mines = append(mines, m)
	}
	if len(sims) == 0 {
		return fmt.Errorf("no mine in the scenario has a positioning section")
	}

	opts := mqtt.NewClientOptions().AddBroker(positioningFlags.broker).SetClientID(positioningFlags.clientID).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(5 * time.Second).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			logger.Warn("connection to MQTT broker lost; reconnecting", "broker", positioningFlags.broker, "err", err)
		}).
		SetOnConnectHandler(func(mqtt.Client) {
			logger.Info("connected to MQTT broker", "broker", positioningFlags.broker)
		})
	if positioningFlags.username != "" {
		opts.SetUsername(positioningFlags.username).SetPassword(positioningFlags.password)
	}
	client := mqtt.NewClient(opts)
	client.Connect()
	defer client.Disconnect(250)

	publish := func(topic string, payload []byte) error {
		if !client.IsConnectionOpen() {
			return fmt.Errorf("not connected to %s", positioningFlags.broker)
		}
		tok := client.Publish(topic, positioningFlags.qos, false, payload)
		if positioningFlags.qos == 0 {
			return nil
		}
		if !tok.WaitTimeout(5 * time.Second) {
			return fmt.Errorf("publish to %s timed out after 5s", topic)
		}
		return tok.Error()
	}

	var wg sync.WaitGroup
	for i, ts := range sims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var failures int
			var lastLog time.Time
			ts.Run(ctx, mines[i], s.Clock, publish, func(err error) {
				// One line per minute at most: a broker outage fails every fix.
				failures++
				if time.Since(lastLog) >= time.Minute {
					logger.Warn("tag publish failed", "mine_id", ts.MineID, "failures", failures, "err", err)
					lastLog, failures = time.Now(), 0
				}
			})
		}()
	}
	wg.Wait()
	return ctx.Err()
}
