package main

import (
	"io"
	"sync"
)

// console is devstack's standard output. When the reader goes away (`make run | tee log` and tee exits, a closed
// terminal), a write fails with EPIPE instead of killing devstack with SIGPIPE (main asks for the signal, which
// turns it into an error): console then calls gone once, and drops everything after, so that devstack goes on to
// stop its children in order. Mute drops the children's output while they stop, so that Ctrl-C is quiet.
type console struct {
	mu    sync.Mutex
	w     io.Writer
	dead  bool
	muted bool
	gone  func()
}

func (c *console) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead || c.muted {
		return len(b), nil
	}
	if _, err := c.w.Write(b); err != nil {
		c.dead = true
		c.gone()
	}
	// The children's log copiers must never see an error: a copier that stops leaves its child blocked on a full
	// pipe, or killed by SIGPIPE before devstack stops it in order.
	return len(b), nil
}

// Mute drops the children's output from now on.
func (c *console) Mute() {
	c.mu.Lock()
	c.muted = true
	c.mu.Unlock()
}

// say writes devstack's own lines, which Mute does not silence.
func (c *console) say(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	if _, err := io.WriteString(c.w, s); err != nil {
		c.dead = true
		c.gone()
	}
}
