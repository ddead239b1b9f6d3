package simulator

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// FaultKind is what goes wrong with an answer.
type FaultKind uint8

const (
	// FaultNone answers normally, after Fault.Delay.
	FaultNone FaultKind = iota
	// FaultHTTPStatus answers Fault.HTTPStatus (default 502) with an HTML page, as a load balancer or
	// servlet container in front of the gateway would.
	FaultHTTPStatus
	// FaultGarbage answers 200 with a JSON content type and a body that is not JSON.
	FaultGarbage
	// FaultTruncated announces the full length of the normal answer, sends half of it and closes the connection.
	FaultTruncated
	// FaultReset takes over the connection and resets it (TCP RST) without answering. A client may
	// silently retry a GET that failed on a reused connection, so a fault with Count 1 can go unseen.
	FaultReset
	// FaultHang never answers; the request ends when the client gives up or the server closes.
	FaultHang
	// FaultHugeBody answers 200 with a syntactically valid JSON body of Fault.Size bytes.
	FaultHugeBody
)

var faultKindNames = [...]string{"none", "http-status", "garbage", "truncated", "reset", "hang", "huge-body"}

func (k FaultKind) String() string {
	if int(k) < len(faultKindNames) {
		return faultKindNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault makes the answers for one agent fail. The zero Fault clears a fault.
type Fault struct {
	// Kind is what goes wrong.
	Kind FaultKind
	// Delay comes before the answer (or the failure), measured on the real clock; it ends early
	// when the request is cancelled.
	Delay time.Duration
	// HTTPStatus is the status of FaultHTTPStatus (default 502).
	HTTPStatus int
	// Size is the body length of FaultHugeBody (default 16 MiB).
	Size int64
	// Count limits the fault to the next Count requests of the agent; 0 keeps it until cleared.
	Count int
}

func (f Fault) active() bool { return f.Kind != FaultNone || f.Delay > 0 }

const defaultHugeBodySize = 16 << 20

// applyFault serves a request of an agent with a fault. It reports false when, after the delay,
// the request is to be answered normally.
func (s *Simulator) applyFault(w http.ResponseWriter, r *http.Request, a *agent, f Fault) (handled bool) {
	if !s.sleep(r.Context(), f.Delay) {
		return true
	}
	switch f.Kind {
	case FaultNone:
		return false
	case FaultHTTPStatus:
		status := f.HTTPStatus
		if status == 0 {
			status = defaultFaultHTTPStatus
		}
		writeHTMLStatus(w, status)
	case FaultGarbage:
		writeJSON(w, []byte("\x00\x1f<<garbage>>\xff{\"retcode\":"))
	case FaultTruncated:
		body := s.answer(a, r).body
		w.Header().Set("Content-Type", jsonContentType)
		// A Content-Length longer than what follows makes the server close the connection after the
		// handler returns, so the client sees the body end early.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
	case FaultReset:
		resetConnection(w)
	case FaultHang:
		s.wait(r.Context())
	case FaultHugeBody:
		size := f.Size
		if size <= 0 {
			size = defaultHugeBodySize
		}
		writeHugeBody(w, size)
	}
	return true
}

// resetConnection closes the client's connection with a TCP reset instead of an orderly close.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, a recorder): abort the request, which the server turns into a broken connection.
		panic(http.ErrAbortHandler)
	}
	tcp := conn
	if tlsConn, ok := conn.(interface{ NetConn() net.Conn }); ok {
		tcp = tlsConn.NetConn()
	}
	if t, ok := tcp.(*net.TCPConn); ok {
		_ = t.SetLinger(0)
	}
	_ = conn.Close()
}

func writeHugeBody(w http.ResponseWriter, size int64) {
	const (
		prefix = `{"message":"","retcode":"0","result":{"callid":"0-0","calldata":"`
		suffix = `"}}`
	)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	padding := size - int64(len(prefix)+len(suffix))
	if padding < 0 {
		// Too small to be JSON: still exactly size bytes.
		_, _ = w.Write([]byte(prefix[:size]))
		return
	}
	if _, err := w.Write([]byte(prefix)); err != nil {
		return
	}
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	for padding > 0 {
		n := min(padding, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			return
		}
		padding -= n
	}
	_, _ = w.Write([]byte(suffix))
}

// sleep waits d on the real clock. It reports false when the request was cancelled first, in which
// case nothing should be written. When the simulator closes first, the request is aborted.
func (s *Simulator) sleep(ctx context.Context, d time.Duration) bool {
	switch sleepFor(ctx, d, s.closed) {
	case slept:
		return true
	case cancelled:
		return false
	default:
		panic(http.ErrAbortHandler)
	}
}

type sleepEnd uint8

const (
	slept sleepEnd = iota
	cancelled
	stopped
)

// sleepFor waits d on the real clock, or until ctx ends or stop (which may be nil) is closed.
func sleepFor(ctx context.Context, d time.Duration, stop <-chan struct{}) sleepEnd {
	if d <= 0 {
		return slept
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return slept
	case <-ctx.Done():
		return cancelled
	case <-stop:
		return stopped
	}
}

// wait blocks until the request is cancelled, or aborts it when the simulator closes.
func (s *Simulator) wait(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-s.closed:
		// Returning would make the server send an empty 200; aborting closes the connection instead.
		panic(http.ErrAbortHandler)
	}
}

const jsonContentType = "application/json;charset=UTF-8"

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeHTMLStatus answers with an error page of the kind a servlet container or load balancer sends,
// which a client must survive without trying to read JSON from it.
func writeHTMLStatus(w http.ResponseWriter, status int) {
	text := http.StatusText(status)
	body := fmt.Sprintf(`<!doctype html><html lang="en"><head><title>HTTP Status %d – %s</title>`+
		`<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;}</style></head>`+
		`<body><h1>HTTP Status %d – %s</h1><hr class="line" /><p><b>Type</b> Status Report</p>`+
		`<p><b>Description</b> The server cannot or will not process the request.</p><hr class="line" />`+
		`<h3>AgentGateway</h3></body></html>`, status, text, status, text)
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.Header().Set("Content-Language", "en")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
