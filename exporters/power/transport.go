package power

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/goburrow/modbus"
	"github.com/goburrow/serial"
)

// link is the connection of one gateway. Only the gateway's poller uses
// it, one request at a time, so it needs no lock.
type link struct {
	gw *Gateway

	tcp     *modbus.TCPClientHandler
	rtuTCP  *rtuOverTCPTransporter
	rtuPack *modbus.RTUClientHandler
	serial  *modbus.RTUClientHandler
}

func newLink(g *Gateway) *link {
	l := &link{gw: g}
	switch g.Protocol {
	case ProtocolTCP:
		l.tcp = modbus.NewTCPClientHandler(g.Address)
		l.tcp.Timeout = g.Timeout
		// The poller closes the connection itself after errors; keep the
		// library's idle timer from closing it between polls.
		l.tcp.IdleTimeout = 0
	case ProtocolRTUOverTCP:
		l.rtuTCP = &rtuOverTCPTransporter{address: g.Address, timeout: g.Timeout}
		l.rtuPack = &modbus.RTUClientHandler{}
	case ProtocolRTU:
		l.serial = modbus.NewRTUClientHandler(g.Device)
		l.serial.BaudRate = g.BaudRate
		l.serial.DataBits = g.DataBits
		l.serial.Parity = g.Parity
		l.serial.StopBits = g.StopBits
		// NOTE: the serial library applies the read timeout when it opens
		// the port, so a terminal's own timeout does not apply on rtu
		// gateways: the gateway's timeout does.
		l.serial.Timeout = g.Timeout
		l.serial.IdleTimeout = 0
	}
	return l
}

// client returns a Modbus client addressed to unit with the given
// request timeout.
func (l *link) client(unit byte, timeout time.Duration) modbus.Client {
	switch {
	case l.tcp != nil:
		l.tcp.SlaveId = unit
		l.tcp.Timeout = timeout
		return modbus.NewClient(l.tcp)
	case l.rtuTCP != nil:
		l.rtuPack.SlaveId = unit
		l.rtuTCP.timeout = timeout
		return modbus.NewClient2(l.rtuPack, l.rtuTCP)
	default:
		l.serial.SlaveId = unit
		return modbus.NewClient(l.serial)
	}
}

// read performs one batch read and checks the size of the reply, which
// the library does not.
func (l *link) read(unit byte, timeout time.Duration, b *Batch) ([]byte, error) {
	// The serial library opens the port inside its first send and reports
	// a failure like any other error. Opening it here first lets classify
	// distinguish a missing or unusable port from a bad reply.
	if l.serial != nil {
		if err := l.serial.Connect(); err != nil {
			return nil, &openError{device: l.gw.Device, err: err}
		}
	}
	c := l.client(unit, timeout)
	var data []byte
	var err error
	want := int(b.Count) * 2
	switch b.Table {
	case TableHolding:
		data, err = c.ReadHoldingRegisters(b.Start, b.Count)
	case TableInput:
		data, err = c.ReadInputRegisters(b.Start, b.Count)
	case TableCoil:
		data, err = c.ReadCoils(b.Start, b.Count)
		want = (int(b.Count) + 7) / 8
	case TableDiscreteInput:
		data, err = c.ReadDiscreteInputs(b.Start, b.Count)
		want = (int(b.Count) + 7) / 8
	}
	if err != nil {
		return nil, err
	}
	if len(data) != want {
		return nil, &invalidReplyError{fmt.Sprintf("reply carries %d bytes, expected %d", len(data), want)}
	}
	return data, nil
}

// close drops the connection; the next request opens a new one. After a
// timeout this is required: a late reply would otherwise be read as the
// reply to the next request.
func (l *link) close() {
	switch {
	case l.tcp != nil:
		_ = l.tcp.Close()
	case l.rtuTCP != nil:
		_ = l.rtuTCP.Close()
	default:
		_ = l.serial.Close()
	}
}

// openError is a serial port that could not be opened or configured.
type openError struct {
	device string
	err    error
}

func (e *openError) Error() string {
	return fmt.Sprintf("cannot open serial port %s: %v", e.device, e.err)
}

func (e *openError) Unwrap() error { return e.err }

type invalidReplyError struct{ msg string }

func (e *invalidReplyError) Error() string { return "invalid reply: " + e.msg }

// functionCode returns the Modbus function code that reads table.
func functionCode(table string) byte {
	switch table {
	case TableCoil:
		return modbus.FuncCodeReadCoils
	case TableDiscreteInput:
		return modbus.FuncCodeReadDiscreteInputs
	case TableHolding:
		return modbus.FuncCodeReadHoldingRegisters
	default:
		return modbus.FuncCodeReadInputRegisters
	}
}

// classify turns a request error into a health reason and reports whether
// the connection must be reopened.
func classify(err error, fc byte) (reason string, reopen bool) {
	var mbErr *modbus.ModbusError
	if errors.As(err, &mbErr) {
		// The library reports any reply with another function code as an
		// exception; only fc|0x80 is one.
		if mbErr.FunctionCode == fc|0x80 {
			return fmt.Sprintf("exception_%d", mbErr.ExceptionCode), false
		}
		return "invalid_response", true
	}
	var netErr net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, serial.ErrTimeout) ||
		(errors.As(err, &netErr) && netErr.Timeout()) {
		return "timeout", true
	}
	var opErr *net.OpError
	var portErr *openError
	if errors.As(err, &portErr) || (errors.As(err, &opErr) && opErr.Op == "dial") {
		return "connect_failed", true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return "connection_reset", true
	}
	return "invalid_response", true
}

// rtuOverTCPTransporter sends RTU frames over a TCP stream, as transparent
// serial servers expect. goburrow/modbus v0.1.0 has no such transporter:
// its RTU transport needs a serial port. Frame ends are found from the
// function code and byte count, since TCP keeps no RTU inter-frame gaps.
type rtuOverTCPTransporter struct {
	address string
	timeout time.Duration
	conn    net.Conn
}

// rtuMaxFrame is the largest RTU frame: address, PDU of at most 253
// bytes, CRC.
const rtuMaxFrame = 256

// Send writes a request frame and reads one reply frame.
func (t *rtuOverTCPTransporter) Send(request []byte) ([]byte, error) {
	if t.conn == nil {
		conn, err := net.DialTimeout("tcp", t.address, t.timeout)
		if err != nil {
			return nil, err
		}
		t.conn = conn
	}
	if err := t.conn.SetDeadline(time.Now().Add(t.timeout)); err != nil {
		return nil, err
	}
	if _, err := t.conn.Write(request); err != nil {
		return nil, err
	}

	var frame [rtuMaxFrame]byte
	if _, err := io.ReadFull(t.conn, frame[:2]); err != nil {
		return nil, err
	}
	n := 2
	fc := frame[1]
	var rest int
	switch {
	case fc&0x80 != 0:
		rest = 3 // exception code and CRC
	case fc == modbus.FuncCodeReadCoils, fc == modbus.FuncCodeReadDiscreteInputs,
		fc == modbus.FuncCodeReadHoldingRegisters, fc == modbus.FuncCodeReadInputRegisters:
		if _, err := io.ReadFull(t.conn, frame[2:3]); err != nil {
			return nil, err
		}
		n = 3
		rest = int(frame[2]) + 2
	default:
		return nil, &invalidReplyError{fmt.Sprintf("RTU reply with unexpected function code %d", fc)}
	}
	if n+rest > rtuMaxFrame {
		return nil, &invalidReplyError{fmt.Sprintf("RTU reply of %d bytes is longer than %d", n+rest, rtuMaxFrame)}
	}
	if _, err := io.ReadFull(t.conn, frame[n:n+rest]); err != nil {
		return nil, err
	}
	return frame[:n+rest], nil
}

// Close closes the connection; the next Send dials again.
func (t *rtuOverTCPTransporter) Close() error {
	if t.conn == nil {
		return nil
	}
	err := t.conn.Close()
	t.conn = nil
	return err
}
