package sim

import (
	"sync"
	"time"
)

// Clock maps wall time to scenario time: scenario time starts at the wall
// time of the start and runs Speed times faster.
type Clock struct {
	mu        sync.Mutex
	wallStart time.Time
	speed     float64
	// now is the wall clock; tests replace it.
	now func() time.Time
}

// NewClock returns a clock that starts at start and runs speed times
// faster than the wall clock.
func NewClock(start time.Time, speed float64) *Clock {
	return &Clock{wallStart: start, speed: speed, now: time.Now}
}

// SetWallClock replaces the wall clock, for tests.
func (c *Clock) SetWallClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

// Restart makes the scenario start now.
func (c *Clock) Restart() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wallStart = c.now()
}

// Elapsed returns scenario time since the start.
func (c *Clock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Duration(float64(c.now().Sub(c.wallStart)) * c.speed)
}

// Now returns the scenario's current time: the start plus the elapsed
// scenario time. With speed 1 it is the wall time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	start := c.wallStart
	c.mu.Unlock()
	return start.Add(c.Elapsed())
}

// Speed returns the clock's speed factor.
func (c *Clock) Speed() float64 { return c.speed }

// Interval converts a scenario-time interval to wall time, at least 1ms.
func (c *Clock) Interval(d time.Duration) time.Duration {
	w := time.Duration(float64(d) / c.speed)
	if w < time.Millisecond {
		w = time.Millisecond
	}
	return w
}
