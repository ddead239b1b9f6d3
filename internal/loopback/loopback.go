// Package loopback hands out 127.0.0.1 addresses for the servers and child
// processes that tests and the load command start; nothing here ever
// listens beyond the loopback interface.
package loopback

import (
	"context"
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago.
// Another process could take it before the caller binds it; callers'
// readiness checks then fail clearly rather than hang.
func FreeAddr(ctx context.Context) (string, error) {
	l, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// TestAddr is FreeAddr for tests: a failure ends the test.
func TestAddr(tb testing.TB) string {
	tb.Helper()
	addr, err := FreeAddr(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}
