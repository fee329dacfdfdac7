package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	smodbus "github.com/simonvetter/modbus"
)

// UnitSource provides the registers of one simulated unit. An error from
// simonvetter/modbus (ErrIllegalDataAddress and the like) becomes the
// matching exception.
type UnitSource interface {
	ReadRegisters(table string, addr, count uint16) ([]uint16, error)
	ReadBits(table string, addr, count uint16) ([]bool, error)
}

// GatewayUnit is one unit behind a simulated gateway.
type GatewayUnit struct {
	ID     uint8
	Source UnitSource
	Faults []Fault
	// States returns the mine's states now, for faults limited to states;
	// nil means no state holds.
	States func() []string
}

type gatewayUnit struct {
	GatewayUnit
	mu       sync.Mutex
	requests int64
}

// PowerGateway is a simulated Modbus gateway: a front listener that
// speaks Modbus TCP or RTU over TCP and injects faults, before a
// simonvetter/modbus TCP server on a private loopback port that serves
// the units' registers.
type PowerGateway struct {
	name    string
	framing string
	ln      net.Listener
	backend *smodbus.ModbusServer
	backURL string
	units   map[uint8]*gatewayUnit

	connections atomic.Int64
	wg          sync.WaitGroup
	mu          sync.Mutex
	conns       map[net.Conn]bool
	closed      bool
}

// StartPowerGateway starts a gateway listening on listen (host:port, port
// 0 for any) with the given framing and units.
func StartPowerGateway(name, listen, framing string, units []GatewayUnit) (*PowerGateway, error) {
	if framing != FramingTCP && framing != FramingRTUOverTCP {
		return nil, fmt.Errorf("gateway %s: framing %q is invalid, expected tcp or rtu_over_tcp", name, framing)
	}
	g := &PowerGateway{name: name, framing: framing, units: map[uint8]*gatewayUnit{}, conns: map[net.Conn]bool{}}
	for _, u := range units {
		g.units[u.ID] = &gatewayUnit{GatewayUnit: u}
	}

	if err := g.startBackend(); err != nil {
		return nil, fmt.Errorf("gateway %s: cannot start the Modbus server: %w", name, err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		_ = g.backend.Stop()
		return nil, fmt.Errorf("gateway %s: cannot listen on %s: %w", name, listen, err)
	}
	g.ln = ln
	g.wg.Add(1)
	go g.accept()
	return g, nil
}

// startBackend starts the library server on a free loopback port. The
// library takes a URL, not a listener, so a port found free a moment ago
// is used and the start retried if another process took it.
func (g *PowerGateway) startBackend() error {
	var err error
	for range 5 {
		var l net.Listener
		l, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		_ = l.Close()
		g.backURL = addr
		g.backend, err = smodbus.NewServer(&smodbus.ServerConfiguration{
			URL:        "tcp://" + addr,
			Timeout:    10 * time.Minute,
			MaxClients: 4096,
			Logger:     log.New(io.Discard, "", 0),
		}, &backendHandler{g: g})
		if err != nil {
			return err
		}
		if err = g.backend.Start(); err == nil {
			return nil
		}
	}
	return err
}

// Name returns the gateway's name.
func (g *PowerGateway) Name() string { return g.name }

// Addr returns the front listener's address.
func (g *PowerGateway) Addr() string { return g.ln.Addr().String() }

// Requests returns the number of requests unit has received.
func (g *PowerGateway) Requests(unit uint8) int64 {
	u := g.units[unit]
	if u == nil {
		return 0
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.requests
}

// Connections returns the number of connections accepted so far.
func (g *PowerGateway) Connections() int64 { return g.connections.Load() }

// SetFaults replaces the faults of a unit.
func (g *PowerGateway) SetFaults(unit uint8, faults []Fault) {
	u := g.units[unit]
	if u == nil {
		return
	}
	for i := range faults {
		if faults[i].Every == 0 {
			faults[i].Every = 1
		}
		if faults[i].Kind == FaultException && faults[i].Code == 0 {
			faults[i].Code = 11
		}
	}
	u.mu.Lock()
	u.Faults = slices.Clone(faults)
	u.mu.Unlock()
}

// Close stops the gateway and waits for its connections to end.
func (g *PowerGateway) Close() error {
	g.mu.Lock()
	g.closed = true
	for c := range g.conns {
		_ = c.Close()
	}
	g.mu.Unlock()
	err := g.ln.Close()
	g.wg.Wait()
	_ = g.backend.Stop()
	return err
}

func (g *PowerGateway) accept() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			_ = c.Close()
			return
		}
		g.conns[c] = true
		g.mu.Unlock()
		g.connections.Add(1)
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.serve(c)
			g.mu.Lock()
			delete(g.conns, c)
			g.mu.Unlock()
			_ = c.Close()
		}()
	}
}

// request is one decoded client request.
type request struct {
	txID uint16 // Modbus TCP only
	unit uint8
	pdu  []byte // function code and data
}

// serve replies to the requests of one client connection.
func (g *PowerGateway) serve(c net.Conn) {
	var back net.Conn
	defer func() {
		if back != nil {
			_ = back.Close()
		}
	}()
	var backTx uint16
	for {
		req, err := g.readRequest(c)
		if err != nil {
			return
		}
		u := g.units[req.unit]
		fault := g.faultFor(u)
		switch fault.Kind {
		case FaultReset:
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with RST, not FIN
			}
			return
		case FaultSilent:
			continue
		case FaultException:
			if err := g.writeReply(c, req, []byte{req.pdu[0] | 0x80, byte(fault.Code)}); err != nil {
				return
			}
			continue
		case FaultGarbage:
			if err := g.writeGarbage(c, req); err != nil {
				return
			}
			continue
		case FaultSlow:
			time.Sleep(fault.Delay)
		}

		if back == nil {
			if back, err = net.Dial("tcp", g.backURL); err != nil {
				return
			}
		}
		backTx++
		reply, err := forward(back, backTx, req)
		if err != nil {
			return
		}
		if err := g.writeReply(c, req, reply); err != nil {
			return
		}
	}
}

// faultFor counts a request of u and returns the fault that applies to it,
// or a zero Fault.
func (g *PowerGateway) faultFor(u *gatewayUnit) Fault {
	if u == nil {
		return Fault{}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.requests++
	var states []string
	if u.States != nil {
		states = u.States()
	}
	for _, f := range u.Faults {
		if u.requests%int64(f.Every) != 0 {
			continue
		}
		if len(f.States) > 0 && !slices.ContainsFunc(f.States, func(s string) bool {
			return slices.Contains(states, s)
		}) {
			continue
		}
		return f
	}
	return Fault{}
}

// readRequest reads one request frame in the gateway's framing.
func (g *PowerGateway) readRequest(c net.Conn) (request, error) {
	if g.framing == FramingTCP {
		var hdr [7]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return request{}, err
		}
		length := int(binary.BigEndian.Uint16(hdr[4:]))
		if length < 2 || length > 254 {
			return request{}, fmt.Errorf("invalid MBAP length %d", length)
		}
		pdu := make([]byte, length-1)
		if _, err := io.ReadFull(c, pdu); err != nil {
			return request{}, err
		}
		return request{txID: binary.BigEndian.Uint16(hdr[:]), unit: hdr[6], pdu: pdu}, nil
	}
	// RTU read requests (function codes 1 to 4) are 8 bytes long.
	var frame [8]byte
	if _, err := io.ReadFull(c, frame[:]); err != nil {
		return request{}, err
	}
	if crc16(frame[:6]) != binary.LittleEndian.Uint16(frame[6:]) {
		return request{}, errors.New("RTU request with a bad CRC")
	}
	return request{unit: frame[0], pdu: slices.Clone(frame[1:6])}, nil
}

// writeReply frames a reply PDU for the client.
func (g *PowerGateway) writeReply(c net.Conn, req request, pdu []byte) error {
	var frame []byte
	if g.framing == FramingTCP {
		frame = make([]byte, 7, 7+len(pdu))
		binary.BigEndian.PutUint16(frame, req.txID)
		binary.BigEndian.PutUint16(frame[4:], uint16(len(pdu)+1))
		frame[6] = req.unit
		frame = append(frame, pdu...)
	} else {
		frame = append([]byte{req.unit}, pdu...)
		frame = binary.LittleEndian.AppendUint16(frame, crc16(frame))
	}
	_, err := c.Write(frame)
	return err
}

// writeGarbage sends a broken reply: on Modbus TCP a well-formed frame
// with another transaction id (what a late reply looks like), on RTU a
// frame with a bad CRC.
func (g *PowerGateway) writeGarbage(c net.Conn, req request) error {
	junk := make([]byte, 5+rand.IntN(20))
	for i := range junk {
		junk[i] = byte(rand.IntN(256))
	}
	pdu := append([]byte{req.pdu[0], byte(len(junk))}, junk...)
	if g.framing == FramingTCP {
		req.txID += 0x5A5A
		return g.writeReply(c, req, pdu)
	}
	frame := append([]byte{req.unit}, pdu...)
	crc := crc16(frame) ^ 0xFFFF
	frame = binary.LittleEndian.AppendUint16(frame, crc)
	_, err := c.Write(frame)
	return err
}

// forward sends a request to the library server and returns its reply PDU.
func forward(back net.Conn, tx uint16, req request) ([]byte, error) {
	frame := make([]byte, 7, 7+len(req.pdu))
	binary.BigEndian.PutUint16(frame, tx)
	binary.BigEndian.PutUint16(frame[4:], uint16(len(req.pdu)+1))
	frame[6] = req.unit
	frame = append(frame, req.pdu...)
	if _, err := back.Write(frame); err != nil {
		return nil, err
	}
	var hdr [7]byte
	if _, err := io.ReadFull(back, hdr[:]); err != nil {
		return nil, err
	}
	length := int(binary.BigEndian.Uint16(hdr[4:]))
	if length < 2 {
		return nil, fmt.Errorf("invalid MBAP length %d from the Modbus server", length)
	}
	pdu := make([]byte, length-1)
	_, err := io.ReadFull(back, pdu)
	return pdu, err
}

// crc16 is the Modbus RTU CRC (polynomial 0xA001, initial 0xFFFF).
func crc16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, x := range b {
		crc ^= uint16(x)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// backendHandler serves the library server's requests from the units.
type backendHandler struct{ g *PowerGateway }

func (h *backendHandler) unit(id uint8) (*gatewayUnit, error) {
	u := h.g.units[id]
	if u == nil {
		// What a real gateway replies for a unit that is not on its bus.
		return nil, smodbus.ErrGWTargetFailedToRespond
	}
	return u, nil
}

func (h *backendHandler) HandleCoils(req *smodbus.CoilsRequest) ([]bool, error) {
	if req.IsWrite {
		return nil, smodbus.ErrIllegalFunction
	}
	u, err := h.unit(req.UnitId)
	if err != nil {
		return nil, err
	}
	return u.Source.ReadBits("coil", req.Addr, req.Quantity)
}

func (h *backendHandler) HandleDiscreteInputs(req *smodbus.DiscreteInputsRequest) ([]bool, error) {
	u, err := h.unit(req.UnitId)
	if err != nil {
		return nil, err
	}
	return u.Source.ReadBits("discrete_input", req.Addr, req.Quantity)
}

func (h *backendHandler) HandleHoldingRegisters(req *smodbus.HoldingRegistersRequest) ([]uint16, error) {
	if req.IsWrite {
		return nil, smodbus.ErrIllegalFunction
	}
	u, err := h.unit(req.UnitId)
	if err != nil {
		return nil, err
	}
	return u.Source.ReadRegisters("holding", req.Addr, req.Quantity)
}

func (h *backendHandler) HandleInputRegisters(req *smodbus.InputRegistersRequest) ([]uint16, error) {
	u, err := h.unit(req.UnitId)
	if err != nil {
		return nil, err
	}
	return u.Source.ReadRegisters("input", req.Addr, req.Quantity)
}

// StaticUnit serves fixed register words and bits, for tests.
type StaticUnit struct {
	mu    sync.Mutex
	Words map[string]map[uint16]uint16
	Bits  map[string]map[uint16]bool
	// Gaps are addresses rejected with exception 2, per table.
	Gaps map[string][][2]uint16
}

// NewStaticUnit returns an empty static unit.
func NewStaticUnit() *StaticUnit {
	return &StaticUnit{Words: map[string]map[uint16]uint16{}, Bits: map[string]map[uint16]bool{},
		Gaps: map[string][][2]uint16{}}
}

// SetWords stores words from addr on in table.
func (s *StaticUnit) SetWords(table string, addr uint16, words ...uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Words[table] == nil {
		s.Words[table] = map[uint16]uint16{}
	}
	for i, w := range words {
		s.Words[table][addr+uint16(i)] = w
	}
}

// SetBit stores one coil or discrete input.
func (s *StaticUnit) SetBit(table string, addr uint16, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Bits[table] == nil {
		s.Bits[table] = map[uint16]bool{}
	}
	s.Bits[table][addr] = on
}

func (s *StaticUnit) inGap(table string, addr, count uint16) bool {
	for _, g := range s.Gaps[table] {
		if int(g[0]) < int(addr)+int(count) && int(g[1]) >= int(addr) {
			return true
		}
	}
	return false
}

// ReadRegisters implements UnitSource.
func (s *StaticUnit) ReadRegisters(table string, addr, count uint16) ([]uint16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inGap(table, addr, count) {
		return nil, smodbus.ErrIllegalDataAddress
	}
	out := make([]uint16, count)
	for i := range out {
		out[i] = s.Words[table][addr+uint16(i)]
	}
	return out, nil
}

// ReadBits implements UnitSource.
func (s *StaticUnit) ReadBits(table string, addr, count uint16) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inGap(table, addr, count) {
		return nil, smodbus.ErrIllegalDataAddress
	}
	out := make([]bool, count)
	for i := range out {
		out[i] = s.Bits[table][addr+uint16(i)]
	}
	return out, nil
}
