package collector

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// connLimit bounds the connections a gateway's client keeps open to the
// gateway's concurrency. The gateway's slots already bound the requests in
// flight, but Go's HTTP transport dials a new connection for a request
// that finds none idle, and keeps it when a connection that came free
// served the request first: at start-up over HTTPS, while handshakes are
// slow, that left some ten to fifty more connections than concurrency
// open, each with its buffers and two goroutines, and more TLS handshakes
// for the gateway.
type connLimit struct {
	slots  chan struct{}
	dialer net.Dialer
}

// connSlotWait is how long a dial waits for a connection to close. A
// request never needs that: with every slot taken, requests in flight
// hold every connection, and the one waiting is served by the first to
// come free; only a dial the transport started speculatively waits.
const connSlotWait = 10 * time.Second

var errConnLimit = errors.New("all connections the gateway's concurrency allows are open")

func newConnLimit(n int) *connLimit {
	return &connLimit{slots: make(chan struct{}, max(1, n))}
}

// DialContext dials once a connection slot is free.
func (l *connLimit) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	wait := time.NewTimer(connSlotWait)
	defer wait.Stop()
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-wait.C:
		return nil, errConnLimit
	}
	conn, err := l.dialer.DialContext(ctx, network, addr)
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: conn, limit: l}, nil
}

// limitedConn gives its slot back when it is closed.
type limitedConn struct {
	net.Conn
	limit *connLimit
	once  sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.limit.slots })
	return err
}
