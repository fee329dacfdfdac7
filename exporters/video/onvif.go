package video

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/rtp"
)

// MetadataStream is the part of an ONVIF tt:MetadataStream document (ONVIF
// Streaming Specification, metadata over RTP) that the mapping uses:
// analytics frames with their objects, and rule-engine notifications.
// encoding/xml matches the local names, whatever the prefixes.
type MetadataStream struct {
	Frames        []Frame        `xml:"VideoAnalytics>Frame"`
	Notifications []Notification `xml:"Event>NotificationMessage"`
}

// Frame is one analysed video frame.
type Frame struct {
	UtcTime string   `xml:"UtcTime,attr"`
	Objects []Object `xml:"Object"`
}

// Object is one tracked object; Class is its most likely class.
type Object struct {
	ID      string       `xml:"ObjectId,attr"`
	Types   []classType  `xml:"Appearance>Class>Type"`
	Classes []classType2 `xml:"Appearance>Class>ClassCandidate"`
}

// classType is the ONVIF 2.x form <tt:Type Likelihood="0.9">Human</tt:Type>.
type classType struct {
	Likelihood float64 `xml:"Likelihood,attr"`
	Value      string  `xml:",chardata"`
}

// classType2 is the ONVIF 1.x form with Type and Likelihood elements.
type classType2 struct {
	Type       string  `xml:"Type"`
	Likelihood float64 `xml:"Likelihood"`
}

// Class returns the class with the highest likelihood, or "".
func (o *Object) Class() string {
	best, class := -1.0, ""
	for _, t := range o.Types {
		if t.Likelihood > best {
			best, class = t.Likelihood, strings.TrimSpace(t.Value)
		}
	}
	for _, t := range o.Classes {
		if t.Likelihood > best {
			best, class = t.Likelihood, strings.TrimSpace(t.Type)
		}
	}
	return class
}

// Notification is one wsnt:NotificationMessage of the event service.
type Notification struct {
	Topic   string       `xml:"Topic"`
	Message eventMessage `xml:"Message>Message"`
}

type eventMessage struct {
	UtcTime           string       `xml:"UtcTime,attr"`
	PropertyOperation string       `xml:"PropertyOperation,attr"`
	Source            []simpleItem `xml:"Source>SimpleItem"`
	Data              []simpleItem `xml:"Data>SimpleItem"`
}

type simpleItem struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:"Value,attr"`
}

// ParseMetadata decodes one tt:MetadataStream document.
func ParseMetadata(data []byte) (*MetadataStream, error) {
	var m MetadataStream
	if err := xml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("invalid ONVIF metadata XML: %w", err)
	}
	return &m, nil
}

// Raws converts the document into raw events of one camera: each object
// updates the occurrence "object/<id>" (type "object", label its class),
// and each notification starts or ends the occurrence of its topic and
// rule (zone: the Rule source item).
func (m *MetadataStream) Raws(mineID, camera string) []Raw {
	var out []Raw
	for _, f := range m.Frames {
		for _, o := range f.Objects {
			out = append(out, Raw{Format: "onvif", MineID: mineID, Camera: camera,
				Key: "object/" + o.ID, Phase: PhaseUpdate, Type: "object", Label: o.Class()})
		}
	}
	for _, n := range m.Notifications {
		topic := strings.TrimSpace(n.Topic)
		r := Raw{Format: "onvif", MineID: mineID, Camera: camera, Type: topic, Phase: PhaseStart}
		var source []string
		for _, it := range n.Message.Source {
			source = append(source, it.Value)
			if it.Name == "Rule" || it.Name == "RuleName" {
				r.Zones = append(r.Zones, it.Value)
			}
		}
		r.Key = "onvif/" + topic + "/" + strings.Join(source, "/")
		if state, ok := n.Message.boolState(); ok {
			switch {
			case !state:
				r.Phase = PhaseEnd
			case n.Message.PropertyOperation == "Initialized":
				r.Phase = PhaseUpdate
			}
		}
		out = append(out, r)
	}
	return out
}

// boolState returns the first boolean data item (IsInside, IsMotion,
// State, IsTamper...), which property events use for their state.
func (m *eventMessage) boolState() (bool, bool) {
	for _, it := range m.Data {
		switch strings.ToLower(strings.TrimSpace(it.Value)) {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	}
	return false, false
}

// Reassembler joins the RTP payloads of the ONVIF metadata track into XML
// documents: a document may span many packets, and the packet with the
// marker bit set ends it. A sequence gap drops the document being built,
// since a document with a hole is not valid XML.
type Reassembler struct {
	// MaxSize bounds one document; a larger one is dropped.
	MaxSize int

	buf     bytes.Buffer
	nextSeq uint16
	started bool
	broken  bool
}

// Errors of Push; the document they name is dropped.
var (
	ErrPacketLost      = errors.New("RTP packet lost inside a metadata document")
	ErrDocumentTooLong = errors.New("metadata document exceeds the size limit")
)

// Push adds one packet. It returns a whole document when pkt ends one,
// or an error when a document had to be dropped. The returned slice is
// valid until the next call.
func (r *Reassembler) Push(pkt *rtp.Packet) ([]byte, error) {
	var err error
	if r.started && pkt.SequenceNumber != r.nextSeq {
		// The lost packets may have begun the next document, so the
		// document in progress is dropped even when the buffer is empty.
		err = fmt.Errorf("%w: expected sequence number %d, got %d", ErrPacketLost, r.nextSeq, pkt.SequenceNumber)
		r.broken = true
		r.buf.Reset()
	}
	r.started = true
	r.nextSeq = pkt.SequenceNumber + 1

	if !r.broken {
		if r.MaxSize > 0 && r.buf.Len()+len(pkt.Payload) > r.MaxSize {
			r.broken = true
			r.buf.Reset()
			err = fmt.Errorf("%w of %d bytes", ErrDocumentTooLong, r.MaxSize)
		} else {
			r.buf.Write(pkt.Payload)
		}
	}

	if !pkt.Marker {
		return nil, err
	}
	if r.broken {
		r.broken = false
		r.buf.Reset()
		return nil, err
	}
	doc := r.buf.Bytes()
	r.buf.Reset()
	return doc, err
}
