// Package httpcall sends one HTTP request and reads its whole answer: the
// plumbing that the bare client, the load command, the simulated desktop
// and the end-to-end tests share. The exporter's gateway client does not
// use it: it reads into pooled buffers and classifies every failure.
package httpcall

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
)

// Request is what to send.
type Request struct {
	Method string // "" is GET
	URL    string
	Body   []byte // nil: no body
	// Limit bounds how much of the answer's body is read; 0 reads it all.
	Limit int64
}

// Answer is an HTTP answer whose body has been read and closed.
type Answer struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends r with client and reads the answer. When reading the body
// fails, the answer's status and header come back with the error.
//
// header, when not nil, fills in the request's header. It is a function
// rather than a map, so that a caller sending many requests allocates no
// more than its header values, and an argument of its own rather than a
// field of Request, so that a closure given here stays on the caller's
// stack: the request keeps what Request holds, so all of it escapes.
func Do(ctx context.Context, client *http.Client, r Request, header func(http.Header)) (Answer, error) {
	var body io.Reader = http.NoBody
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, cmp.Or(r.Method, http.MethodGet), r.URL, body)
	if err != nil {
		return Answer{}, err
	}
	if header != nil {
		header(req.Header)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	var reader io.Reader = resp.Body
	if r.Limit > 0 {
		reader = io.LimitReader(resp.Body, r.Limit)
	}
	raw, err := io.ReadAll(reader)
	return Answer{StatusCode: resp.StatusCode, Header: resp.Header, Body: raw}, err
}

// StatusError is nil for a 200 answer; otherwise it names the status and
// quotes the start of the body, which usually says why.
func (a Answer) StatusError() error {
	if a.StatusCode == http.StatusOK {
		return nil
	}
	return fmt.Errorf("HTTP status %d: %.200s", a.StatusCode, a.Body)
}
