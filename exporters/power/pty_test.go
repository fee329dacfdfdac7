//go:build linux

package power_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	smodbus "github.com/simonvetter/modbus"
	"golang.org/x/sys/unix"

	"github.com/minewatch/minewatch/exporters/sim"
)

// pty is a pseudo-terminal pair. The slave takes the place of a serial
// port (/dev/ttyUSB0 on a real machine), the master that of the bus.
type pty struct {
	master *os.File
	// slave stays open for the whole test: while no slave descriptor is
	// open, reads on the master fail with EIO, and the poller closes its
	// port after every timeout.
	slave     *os.File
	slavePath string
}

// openPTY opens a pseudo-terminal pair with raw line settings on the slave.
func openPTY(t *testing.T) *pty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("cannot open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { _ = master.Close() })

	// Fd() would switch the file to blocking mode and take it out of the
	// runtime poller, so Close would no longer end a pending Read.
	var number uint32
	err = control(master, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlock (TIOCSPTLCK): %w", err)
		}
		n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
		if err != nil {
			return fmt.Errorf("slave number (TIOCGPTN): %w", err)
		}
		number = n
		return nil
	})
	if err != nil {
		t.Fatalf("pseudo-terminal master: %v", err)
	}

	p := &pty{master: master, slavePath: fmt.Sprintf("/dev/pts/%d", number)}
	p.slave, err = os.OpenFile(p.slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("cannot open the pseudo-terminal slave: %v", err)
	}
	t.Cleanup(func() { _ = p.slave.Close() })
	err = control(p.slave, func(fd int) error {
		tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return err
		}
		// Raw mode: no echo, no line editing, no byte translation, so
		// 0x0A, 0x0D and 0x11 in a frame pass unchanged.
		tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR |
			unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
		tio.Oflag &^= unix.OPOST
		tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		tio.Cflag &^= unix.CSIZE | unix.PARENB
		tio.Cflag |= unix.CS8
		tio.Cc[unix.VMIN] = 1
		tio.Cc[unix.VTIME] = 0
		return unix.IoctlSetTermios(fd, unix.TCSETS, tio)
	})
	if err != nil {
		t.Fatalf("cannot set raw mode on %s: %v", p.slavePath, err)
	}
	return p
}

// termios returns the slave's line settings as the serial port left them.
func (p *pty) termios(t *testing.T) *unix.Termios {
	t.Helper()
	var tio *unix.Termios
	err := control(p.slave, func(fd int) error {
		var err error
		tio, err = unix.IoctlGetTermios(fd, unix.TCGETS)
		return err
	})
	if err != nil {
		t.Fatalf("cannot read the line settings of %s: %v", p.slavePath, err)
	}
	return tio
}

func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := rc.Control(func(fd uintptr) { fnErr = fn(int(fd)) }); err != nil {
		return err
	}
	return fnErr
}

// rtuBus serves Modbus RTU read requests on the master side of a pty, in
// place of the units wired to a serial line. Units reply from the
// simulator's register sources. A unit can stay silent, reply with a
// broken CRC or reply with an exception.
type rtuBus struct {
	p     *pty
	units map[uint8]sim.UnitSource
	// replyDelay is how long a unit takes to reply. A second request
	// that arrives meanwhile is counted as an overlap.
	replyDelay time.Duration

	mu         sync.Mutex
	requests   map[uint8]int
	silent     map[uint8]bool
	corrupt    map[uint8]int // replies left to send with a broken CRC
	exception  map[uint8]byte
	inFlight   int
	overlaps   int
	badFrames  int
	writeError error

	queue chan rtuRequest
	done  chan struct{}
}

type rtuRequest struct {
	unit uint8
	pdu  []byte // function code, start address, count
}

// startRTUBus serves units on p until the test ends.
func startRTUBus(t *testing.T, p *pty, units map[uint8]sim.UnitSource) *rtuBus {
	b := &rtuBus{p: p, units: units, requests: map[uint8]int{}, silent: map[uint8]bool{},
		corrupt: map[uint8]int{}, exception: map[uint8]byte{},
		queue: make(chan rtuRequest, 64), done: make(chan struct{})}
	go b.read()
	go b.answer()
	t.Cleanup(func() {
		// Closing the master ends read, which closes the queue.
		_ = p.master.Close()
		<-b.done
	})
	return b
}

// read takes request frames off the line. Read requests (function codes 1
// to 4) are 8 bytes: unit, function, start, count, CRC.
func (b *rtuBus) read() {
	defer close(b.queue)
	var frame [8]byte
	for {
		if _, err := io.ReadFull(b.p.master, frame[:]); err != nil {
			return
		}
		b.mu.Lock()
		if crc16(frame[:6]) != binary.LittleEndian.Uint16(frame[6:]) || frame[1] < 1 || frame[1] > 4 {
			b.badFrames++
			b.mu.Unlock()
			continue
		}
		if b.inFlight > 0 {
			b.overlaps++
		}
		b.inFlight++
		b.requests[frame[0]]++
		b.mu.Unlock()
		b.queue <- rtuRequest{unit: frame[0], pdu: append([]byte(nil), frame[1:6]...)}
	}
}

func (b *rtuBus) answer() {
	defer close(b.done)
	for req := range b.queue {
		time.Sleep(b.replyDelay)
		b.mu.Lock()
		// Done before the write: once the reply is out, the client may
		// send its next request at once.
		b.inFlight--
		silent := b.silent[req.unit] || b.units[req.unit] == nil
		corrupt := b.corrupt[req.unit] > 0
		if corrupt {
			b.corrupt[req.unit]--
		}
		code := b.exception[req.unit]
		b.mu.Unlock()
		if silent {
			continue // an absent or dead unit: the client times out
		}

		pdu := b.reply(req, code)
		frame := append([]byte{req.unit}, pdu...)
		crc := crc16(frame)
		if corrupt {
			crc ^= 0xFFFF
		}
		frame = binary.LittleEndian.AppendUint16(frame, crc)
		if _, err := b.p.master.Write(frame); err != nil {
			b.mu.Lock()
			b.writeError = err
			b.mu.Unlock()
		}
	}
}

// reply builds the reply PDU of a read request.
func (b *rtuBus) reply(req rtuRequest, code byte) []byte {
	fc := req.pdu[0]
	if code != 0 {
		return []byte{fc | 0x80, code}
	}

	addr := binary.BigEndian.Uint16(req.pdu[1:])
	count := binary.BigEndian.Uint16(req.pdu[3:])
	src := b.units[req.unit]
	var out []byte
	var err error
	switch fc {
	case 3, 4:
		table := map[byte]string{3: "holding", 4: "input"}[fc]
		var words []uint16
		if words, err = src.ReadRegisters(table, addr, count); err == nil {
			out = []byte{fc, byte(2 * len(words))}
			for _, w := range words {
				out = binary.BigEndian.AppendUint16(out, w)
			}
		}
	default:
		table := map[byte]string{1: "coil", 2: "discrete_input"}[fc]
		var bits []bool
		if bits, err = src.ReadBits(table, addr, count); err == nil {
			packed := make([]byte, (len(bits)+7)/8)
			for i, on := range bits {
				if on {
					packed[i/8] |= 1 << (i % 8)
				}
			}
			out = append([]byte{fc, byte(len(packed))}, packed...)
		}
	}

	if errors.Is(err, smodbus.ErrIllegalDataAddress) {
		return []byte{fc | 0x80, 2}
	}
	if err != nil {
		return []byte{fc | 0x80, 4} // server device failure
	}
	return out
}

func (b *rtuBus) setSilent(unit uint8, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.silent[unit] = on
}

func (b *rtuBus) corruptNext(unit uint8, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.corrupt[unit] = n
}

func (b *rtuBus) setException(unit uint8, code byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exception[unit] = code
}

func (b *rtuBus) requestsOf(unit uint8) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests[unit]
}

// check reports overlapping requests, broken request frames and failed
// writes: none may happen.
func (b *rtuBus) check(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.overlaps != 0 {
		t.Errorf("%d requests were sent while another one awaited its reply", b.overlaps)
	}
	if b.badFrames != 0 {
		t.Errorf("%d request frames had a bad CRC or function code", b.badFrames)
	}
	if b.writeError != nil {
		t.Errorf("writing a reply on the pty master failed: %v", b.writeError)
	}
}

// crc16 is the Modbus RTU CRC (polynomial 0xA001 reflected, initial
// 0xFFFF), sent low byte first.
func crc16(data []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, x := range data {
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
