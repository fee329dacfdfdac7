package video

import (
	"errors"
	"testing"

	"github.com/pion/rtp"
)

func TestParseMetadataSample(t *testing.T) {
	m, err := ParseMetadata(readSample(t, "onvif-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Frames) != 1 || len(m.Frames[0].Objects) != 2 {
		t.Fatalf("frames %+v, want one frame with two objects", m.Frames)
	}
	if got := m.Frames[0].Objects[0].Class(); got != "Human" {
		t.Errorf("object 17 class = %q, want Human", got)
	}
	raws := m.Raws(testMine, "main_belt")
	if len(raws) != 3 {
		t.Fatalf("raws = %d, want 2 objects and 1 notification", len(raws))
	}
	n := raws[2]
	if n.Type != "tns1:RuleEngine/FieldDetector/ObjectsInside" || n.Phase != PhaseStart ||
		len(n.Zones) != 1 || n.Zones[0] != "danger_zone_1" {
		t.Errorf("notification raw = %+v, want topic ObjectsInside, start, zone danger_zone_1", n)
	}
}

func TestParseMetadataClassCandidate(t *testing.T) {
	doc := `<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema"><tt:VideoAnalytics><tt:Frame>
<tt:Object ObjectId="3"><tt:Appearance><tt:Class>
<tt:ClassCandidate><tt:Type>Animal</tt:Type><tt:Likelihood>0.2</tt:Likelihood></tt:ClassCandidate>
<tt:ClassCandidate><tt:Type>Vehical</tt:Type><tt:Likelihood>0.7</tt:Likelihood></tt:ClassCandidate>
</tt:Class></tt:Appearance></tt:Object></tt:Frame></tt:VideoAnalytics></tt:MetadataStream>`
	m, err := ParseMetadata([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Frames[0].Objects[0].Class(); got != "Vehical" {
		t.Errorf("class = %q, want the likelier ONVIF 1.x candidate Vehical", got)
	}
}

// packets splits doc into RTP packets of size bytes from sequence seq.
func packets(doc []byte, size int, seq uint16) []*rtp.Packet {
	var out []*rtp.Packet
	for start := 0; start < len(doc); start += size {
		end := min(start+size, len(doc))
		out = append(out, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Marker: end == len(doc)},
			Payload: doc[start:end]})
		seq++
	}
	return out
}

func TestReassemblerManyPackets(t *testing.T) {
	doc := readSample(t, "onvif-metadata.xml")
	pkts := packets(doc, 31, 65500) // crosses the sequence number wrap
	if len(pkts) < 50 {
		t.Fatalf("only %d packets; the test wants many", len(pkts))
	}
	r := &Reassembler{MaxSize: 1 << 20}
	for i, p := range pkts {
		out, err := r.Push(p)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if i < len(pkts)-1 && out != nil {
			t.Fatalf("document returned at packet %d before the marker", i)
		}
		if i == len(pkts)-1 && string(out) != string(doc) {
			t.Fatalf("reassembled document differs from the original (%d vs %d bytes)", len(out), len(doc))
		}
	}
}

func TestReassemblerPacketLoss(t *testing.T) {
	doc := readSample(t, "onvif-metadata.xml")
	first := packets(doc, 100, 10)
	second := packets(doc, 100, first[len(first)-1].SequenceNumber+1)
	r := &Reassembler{}

	var lossErr error
	for i, p := range first {
		if i == 3 {
			continue // lost
		}
		out, err := r.Push(p)
		if err != nil {
			lossErr = err
		}
		if out != nil {
			t.Fatal("a document with a lost packet was returned")
		}
	}
	if !errors.Is(lossErr, ErrPacketLost) {
		t.Fatalf("loss error = %v, want ErrPacketLost", lossErr)
	}
	var got []byte
	for _, p := range second {
		out, err := r.Push(p)
		if err != nil {
			t.Fatalf("document after the loss: %v", err)
		}
		if out != nil {
			got = out
		}
	}
	if string(got) != string(doc) {
		t.Error("the document after a lost one was not reassembled")
	}
}

func TestReassemblerTooLong(t *testing.T) {
	doc := readSample(t, "onvif-metadata.xml")
	r := &Reassembler{MaxSize: 500}
	var sawErr bool
	for _, p := range packets(doc, 100, 0) {
		out, err := r.Push(p)
		if errors.Is(err, ErrDocumentTooLong) {
			sawErr = true
		}
		if out != nil {
			t.Fatal("an over-long document was returned")
		}
	}
	if !sawErr {
		t.Error("no ErrDocumentTooLong for a document over MaxSize")
	}
}
