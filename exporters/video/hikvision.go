package video

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Alert is the part of a Hikvision ISAPI EventNotificationAlert that the
// mapping uses. The XML (namespace http://www.hikvision.com/ver20/XMLSchema)
// and the JSON form carry the same field names.
type Alert struct {
	XMLName         xml.Name `xml:"EventNotificationAlert" json:"-"`
	IPAddress       string   `xml:"ipAddress" json:"ipAddress"`
	ChannelID       int      `xml:"channelID" json:"channelID"`
	DateTime        string   `xml:"dateTime" json:"dateTime"`
	ActivePostCount int      `xml:"activePostCount" json:"activePostCount"`
	EventType       string   `xml:"eventType" json:"eventType"`
	EventState      string   `xml:"eventState" json:"eventState"`
	ChannelName     string   `xml:"channelName" json:"channelName"`
	Regions         []Region `xml:"DetectionRegionList>DetectionRegionEntry" json:"DetectionRegionList"`
}

// Region is one DetectionRegionEntry: the rule region that fired and the
// kind of target in it (human, vehicle).
type Region struct {
	RegionID        json.Number `xml:"regionID" json:"regionID"`
	DetectionTarget string      `xml:"detectionTarget" json:"detectionTarget"`
}

// ParseAlertXML decodes an EventNotificationAlert XML document.
func ParseAlertXML(data []byte) (*Alert, error) {
	var a Alert
	dec := xml.NewDecoder(bytes.NewReader(data))
	// Hikvision firmware declares UTF-8; a different declared charset is
	// passed through, since every field used here is ASCII.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("invalid EventNotificationAlert XML: %w", err)
	}
	return &a, a.validate()
}

// ParseAlertJSON decodes an EventNotificationAlert in its JSON form.
func ParseAlertJSON(data []byte) (*Alert, error) {
	var a Alert
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("invalid EventNotificationAlert JSON: %w", err)
	}
	return &a, a.validate()
}

func (a *Alert) validate() error {
	if a.EventType == "" {
		return errors.New("EventNotificationAlert has no eventType")
	}
	if a.ChannelName == "" && a.IPAddress == "" {
		return errors.New("EventNotificationAlert has neither channelName nor ipAddress, so its camera is unknown")
	}
	return nil
}

// Raw converts the alert into a raw event of mineID. The camera is the
// channelName, or "<ipAddress>/<channelID>" when the channel has no name.
// An inactive eventState ends the occurrence; activePostCount 1 starts
// one and higher counts continue it.
func (a *Alert) Raw(mineID, format string) Raw {
	camera := a.ChannelName
	if camera == "" {
		camera = a.IPAddress + "/" + strconv.Itoa(a.ChannelID)
	}
	r := Raw{
		Format: format,
		MineID: mineID,
		Camera: camera,
		Key:    "hikvision/" + a.EventType,
		Type:   a.EventType,
		Phase:  PhaseUpdate,
	}
	switch {
	case strings.EqualFold(a.EventState, "inactive"):
		r.Phase = PhaseEnd
	case a.ActivePostCount <= 1:
		r.Phase = PhaseStart
	}
	for _, reg := range a.Regions {
		r.Zones = append(r.Zones, reg.RegionID.String())
		if r.Label == "" {
			r.Label = reg.DetectionTarget
		}
	}
	return r
}
