package main

import (
	"context"
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/minewatch/minewatch/exporters/sim"
)

// The video channel serves the mines' cameras over RTSP (H.264 and ONVIF
// metadata) and sends their AI events to the exporter's webhook and to
// Frigate topics on an MQTT broker.
func init() {
	var opts sim.VideoOptions
	addChannel(channel{
		name: "video",
		flags: func(a *kingpin.Application) {
			a.Flag("video.rtsp-address", "Address (host:port) of the RTSP server of the simulated cameras, "+
				"serving rtsp://ADDRESS/<mine_id>/<camera>. Enables the video channel.").
				StringVar(&opts.RTSPAddress)
			a.Flag("video.webhook-url", "Base URL of mine-exporter, such as http://127.0.0.1:9761; AI events "+
				"are posted to /api/v1/video/hikvision and /api/v1/video/events. Enables the video channel.").
				StringVar(&opts.WebhookURL)
			a.Flag("video.mqtt-broker", "MQTT broker URL for Frigate events, such as tcp://127.0.0.1:1883. "+
				"Enables the video channel.").StringVar(&opts.MQTTBroker)
		},
		enabled: func() bool {
			return opts.RTSPAddress != "" || opts.WebhookURL != "" || opts.MQTTBroker != ""
		},
		run: func(ctx context.Context, s *sim.Scenario, logger *slog.Logger) error {
			return sim.RunVideo(ctx, s, opts, logger)
		},
	})
}
