package positioning

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// rawPublisher writes MQTT 3.1.1 QoS 0 PUBLISH packets straight to a TCP
// connection, much faster than a client library, so that a test or a
// benchmark can flood the broker.
type rawPublisher struct {
	conn net.Conn
	w    *bufio.Writer
	buf  []byte
}

func dialRaw(tb testing.TB, addr, clientID string) *rawPublisher {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	var body []byte
	body = append(body, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60)
	body = appendString(body, clientID)
	pkt := appendRemaining([]byte{0x10}, len(body))
	pkt = append(pkt, body...)
	if _, err := conn.Write(pkt); err != nil {
		tb.Fatal(err)
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(conn, ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		tb.Fatalf("CONNACK from %s: % x, %v", addr, ack, err)
	}
	p := &rawPublisher{conn: conn, w: bufio.NewWriterSize(conn, 1<<16)}
	tb.Cleanup(func() { conn.Close() })
	return p
}

// Publish buffers one QoS 0 PUBLISH packet.
func (p *rawPublisher) Publish(topic string, payload []byte) error {
	p.buf = p.buf[:0]
	p.buf = append(p.buf, 0x30)
	p.buf = appendRemaining(p.buf, 2+len(topic)+len(payload))
	p.buf = appendString(p.buf, topic)
	p.buf = append(p.buf, payload...)
	_, err := p.w.Write(p.buf)
	return err
}

// Close flushes, sends DISCONNECT and closes the connection.
func (p *rawPublisher) Close() error {
	if err := p.w.WriteByte(0xE0); err != nil {
		return err
	}
	if err := p.w.WriteByte(0); err != nil {
		return err
	}
	if err := p.w.Flush(); err != nil {
		return err
	}
	return p.conn.Close()
}

func appendString(b []byte, s string) []byte {
	b = append(b, byte(len(s)>>8), byte(len(s)))
	return append(b, s...)
}

func appendRemaining(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// tagPayload appends a sample-format message of tag i of n to b.
func tagPayload(b []byte, i, seq int) []byte {
	kind := "person"
	if i%50 == 0 {
		kind = "vehicle"
	}
	x := 1040 + float64((i*7+seq)%1600)
	y := 500 + float64(i%300)
	return fmt.Appendf(b, `{"tagId":"T%05d","type":"%s","x":%.2f,"y":%.2f,"z":-430.0,"ts":"2026-11-20T22:15:03.120+08:00","battery":87,"sos":false}`,
		i, kind, x, y)
}
