package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Camera roles of the simulated mine and the events they report:
//
//   - dispatch_room: Hikvision XML webhook, eventType leavePosition, while
//     dispatch_empty holds;
//   - main_belt: ONVIF metadata, rule belt_motion of the
//     MotionRegionDetector, while the mine produces (producing or
//     secret_night_work);
//   - coal_yard_gate: Frigate, a truck in zone exit_lane every TruckEvery
//     while the mine produces;
//   - shaft_mouth: our own JSON shape, person_in, every tick while the
//     mine produces.
const (
	RoleDispatchRoom = "dispatch_room"
	RoleMainBelt     = "main_belt"
	RoleCoalYardGate = "coal_yard_gate"
	RoleShaftMouth   = "shaft_mouth"
)

// VideoSection is the video section of a mine in the scenario file.
type VideoSection struct {
	// WebhookToken is the bearer token of the mine's site in the
	// exporter's video.webhook.sites.
	WebhookToken string `yaml:"webhook_token"`
	// FrigateTopicPrefix is the mine's Frigate mqtt.topic_prefix.
	// Default "frigate".
	FrigateTopicPrefix string `yaml:"frigate_topic_prefix"`
	// Tick is the scenario-time period of repeated events. Default 10s.
	// All mines play at the shortest tick of any mine.
	Tick time.Duration `yaml:"tick"`
	// TruckEvery is the scenario time between trucks leaving. Default 3m.
	TruckEvery time.Duration    `yaml:"truck_every"`
	Cameras    []VideoSimCamera `yaml:"cameras"`
}

// VideoSimCamera is one simulated camera.
type VideoSimCamera struct {
	ID   string `yaml:"id"`
	Role string `yaml:"role"`
	// Stream serves the camera over RTSP at <mine_id>/<id>. Default true.
	Stream *bool `yaml:"stream"`
}

// VideoOptions are the command-line settings of the video channel.
type VideoOptions struct {
	// RTSPAddress is where the camera streams are served, such as
	// 127.0.0.1:8554; empty serves none.
	RTSPAddress string
	// WebhookURL is the exporter's base URL, such as
	// http://127.0.0.1:9761; empty sends no webhook events.
	WebhookURL string
	// MQTTBroker is the broker Frigate events go to; empty sends none.
	MQTTBroker string
}

type videoMine struct {
	mine    *Mine
	section VideoSection
	cams    map[string]*SimCamera // by camera id, streamed ones
	// sim state per mine
	absentPosts int
	wasAbsent   bool
	lastTruck   time.Duration
	trucks      int
}

func producing(m *Mine, elapsed time.Duration) bool {
	return m.In(StateProducing, elapsed) || m.In(StateSecretNightWork, elapsed)
}

// RunVideo plays the cameras of every mine with a video section until ctx
// ends: RTSP streams with ONVIF metadata, webhook events and Frigate
// events, all following the mines' timelines.
func RunVideo(ctx context.Context, s *Scenario, opts VideoOptions, logger *slog.Logger) error {
	var mines []*videoMine
	for i := range s.Mines {
		m := &s.Mines[i]
		var sec VideoSection
		ok, err := Decode(&m.Video, &sec)
		if err != nil {
			return fmt.Errorf("mine %s: video section: %w", m.ID, err)
		}
		if !ok {
			continue
		}
		if sec.FrigateTopicPrefix == "" {
			sec.FrigateTopicPrefix = "frigate"
		}
		if sec.Tick == 0 {
			sec.Tick = 10 * time.Second
		}
		if sec.TruckEvery == 0 {
			sec.TruckEvery = 3 * time.Minute
		}
		for _, c := range sec.Cameras {
			switch c.Role {
			case RoleDispatchRoom, RoleMainBelt, RoleCoalYardGate, RoleShaftMouth:
			default:
				return fmt.Errorf("mine %s: camera %s: role %q must be dispatch_room, main_belt, "+
					"coal_yard_gate or shaft_mouth", m.ID, c.ID, c.Role)
			}
		}
		mines = append(mines, &videoMine{mine: m, section: sec, cams: map[string]*SimCamera{},
			lastTruck: -sec.TruckEvery})
	}
	if len(mines) == 0 {
		return fmt.Errorf("no mine of the scenario has a video section")
	}

	p := &videoPlayer{opts: opts, clock: s.Clock, logger: logger, http: &http.Client{Timeout: 10 * time.Second}}
	if opts.RTSPAddress != "" {
		server := NewCameraServer(opts.RTSPAddress)
		if err := server.Start(); err != nil {
			return err
		}
		defer server.Close()
		for _, vm := range mines {
			for _, c := range vm.section.Cameras {
				if c.Stream != nil && !*c.Stream {
					continue
				}
				cam, err := server.AddCamera(vm.mine.ID+"/"+c.ID, CameraOptions{Metadata: c.Role == RoleMainBelt})
				if err != nil {
					return err
				}
				vm.cams[c.ID] = cam
				go func() { _ = cam.Run(ctx) }()
			}
		}
		logger.Info("RTSP cameras served", "address", opts.RTSPAddress)
	}
	if opts.MQTTBroker != "" {
		client := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(opts.MQTTBroker).
			SetClientID("minesim-video").SetAutoReconnect(true).SetConnectRetry(true).
			SetConnectRetryInterval(2 * time.Second))
		client.Connect()
		defer client.Disconnect(250)
		p.mqtt = client
		for _, vm := range mines {
			p.publish(vm.section.FrigateTopicPrefix+"/available", []byte("online"), true)
		}
	}

	tick := mines[0].section.Tick
	for _, vm := range mines {
		tick = min(tick, vm.section.Tick)
	}
	for {
		elapsed := s.Clock.Elapsed()
		for _, vm := range mines {
			p.tick(ctx, vm, elapsed)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.Clock.Interval(tick)):
		}
	}
}

type videoPlayer struct {
	opts   VideoOptions
	clock  *Clock
	logger *slog.Logger
	http   *http.Client
	mqtt   mqtt.Client
}

func (p *videoPlayer) tick(ctx context.Context, vm *videoMine, elapsed time.Duration) {
	m := vm.mine
	now := p.clock.Now()
	for _, c := range vm.section.Cameras {
		switch c.Role {
		case RoleDispatchRoom:
			absent := m.In(StateDispatchEmpty, elapsed)
			if absent {
				vm.absentPosts++
				p.postHikvision(ctx, vm, HikvisionAlertXML(c.ID, "leavePosition", "active", vm.absentPosts, now))
			} else if vm.wasAbsent {
				vm.absentPosts = 0
				p.postHikvision(ctx, vm, HikvisionAlertXML(c.ID, "leavePosition", "inactive", 0, now))
			}
			vm.wasAbsent = absent
		case RoleMainBelt:
			if cam := vm.cams[c.ID]; cam != nil {
				cam.PublishMetadata(ONVIFMetadata(now, "belt_motion", producing(m, elapsed)), now)
			}
		case RoleCoalYardGate:
			if producing(m, elapsed) && elapsed-vm.lastTruck >= vm.section.TruckEvery {
				vm.lastTruck = elapsed
				vm.trucks++
				id := fmt.Sprintf("%d.%03d-%s", now.Unix(), vm.trucks%1000, m.ID)
				for _, kind := range []string{"new", "end"} {
					p.publish(vm.section.FrigateTopicPrefix+"/events",
						FrigateEventJSON(kind, id, c.ID, "truck", []string{"exit_lane"}, now), false)
				}
			}
		case RoleShaftMouth:
			if producing(m, elapsed) {
				body, _ := json.Marshal(map[string]any{"camera": c.ID, "event": "person_in",
					"time": now.UTC().Format(time.RFC3339)})
				p.post(ctx, vm, "/api/v1/video/events", "application/json", body)
			}
		}
	}
}

func (p *videoPlayer) postHikvision(ctx context.Context, vm *videoMine, body []byte) {
	p.post(ctx, vm, "/api/v1/video/hikvision", "application/xml; charset=UTF-8", body)
}

func (p *videoPlayer) post(ctx context.Context, vm *videoMine, path, contentType string, body []byte) {
	if p.opts.WebhookURL == "" {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.opts.WebhookURL+path, bytes.NewReader(body))
	if err != nil {
		p.logger.Error("building webhook request failed", "mine_id", vm.mine.ID, "err", err)
		return
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+vm.section.WebhookToken)
	resp, err := p.http.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			p.logger.Warn("webhook post failed, the next tick retries", "mine_id", vm.mine.ID, "url", req.URL.String(), "err", err)
		}
		return
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.logger.Warn("webhook rejected the event", "mine_id", vm.mine.ID, "url", req.URL.String(),
			"status", resp.StatusCode, "response", string(msg))
	}
}

func (p *videoPlayer) publish(topic string, payload []byte, retained bool) {
	if p.mqtt == nil {
		return
	}
	p.mqtt.Publish(topic, 1, retained, payload)
}

// HikvisionAlertXML returns an EventNotificationAlert as a Hikvision
// camera posts it for an event on a named channel.
func HikvisionAlertXML(channel, eventType, state string, postCount int, at time.Time) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">` + "\n")
	b.WriteString("<ipAddress>127.0.0.1</ipAddress>\n<portNo>80</portNo>\n<protocol>HTTP</protocol>\n")
	b.WriteString("<channelID>1</channelID>\n")
	b.WriteString("<dateTime>" + at.Format(time.RFC3339) + "</dateTime>\n")
	b.WriteString("<activePostCount>" + strconv.Itoa(postCount) + "</activePostCount>\n")
	b.WriteString("<eventType>" + eventType + "</eventType>\n")
	b.WriteString("<eventState>" + state + "</eventState>\n")
	b.WriteString("<eventDescription>" + eventType + " alarm</eventDescription>\n")
	b.WriteString("<channelName>" + channel + "</channelName>\n")
	b.WriteString("<DetectionRegionList><DetectionRegionEntry><regionID>1</regionID>" +
		"<detectionTarget>human</detectionTarget></DetectionRegionEntry></DetectionRegionList>\n")
	b.WriteString("</EventNotificationAlert>\n")
	return b.Bytes()
}

// ONVIFMetadata returns a tt:MetadataStream document with one analytics
// frame and a MotionRegionDetector notification of rule whose IsMotion is
// motion.
func ONVIFMetadata(at time.Time, rule string, motion bool) []byte {
	utc := at.UTC().Format("2006-01-02T15:04:05.000Z")
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tns1="http://www.onvif.org/ver10/topics">
<tt:VideoAnalytics><tt:Frame UtcTime="%s" Source="VideoSource_1"></tt:Frame></tt:VideoAnalytics>
<tt:Event><wsnt:NotificationMessage>
<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RuleEngine/MotionRegionDetector/Motion</wsnt:Topic>
<wsnt:Message><tt:Message UtcTime="%s" PropertyOperation="Changed">
<tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="VideoSource_1"/><tt:SimpleItem Name="Rule" Value="%s"/></tt:Source>
<tt:Data><tt:SimpleItem Name="IsMotion" Value="%t"/></tt:Data>
</tt:Message></wsnt:Message>
</wsnt:NotificationMessage></tt:Event>
</tt:MetadataStream>
`, utc, utc, rule, motion)
}

// FrigateEventJSON returns a Frigate frigate/events message of type kind
// (new, update, end) for a tracked object.
func FrigateEventJSON(kind, id, camera, label string, zones []string, at time.Time) []byte {
	start := float64(at.UnixMilli()) / 1000
	after := map[string]any{"id": id, "camera": camera, "label": label, "score": 0.83,
		"top_score": 0.83, "false_positive": false, "start_time": start, "end_time": nil,
		"current_zones": zones, "entered_zones": zones, "stationary": false, "active": true}
	if kind == "end" {
		after["end_time"] = start + 5
		after["active"] = false
	}
	body, _ := json.Marshal(map[string]any{"type": kind, "before": after, "after": after})
	return body
}
