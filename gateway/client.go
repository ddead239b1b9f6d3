package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxBodyBytes bounds what is read of one answer. A real call
// information body is about a kilobyte; the bound only protects the
// exporter from a misbehaving gateway or proxy.
const DefaultMaxBodyBytes = 256 << 10

// bodyBuffers recycle the buffers answers are read into, since a scrape
// reads one per agent. DecodeAnswer copies whatever it keeps, so a buffer
// is free again once its answer is decoded; buffers grown by unusually
// large answers are left to the garbage collector.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 16 << 10

// Reason classifies a failed query; it is the `reason` label of the error
// counter.
type Reason string

// The failure reasons, from the innermost to the outermost layer.
const (
	ReasonTimeout   Reason = "timeout"   // no answer before the deadline, or cancelled
	ReasonTransport Reason = "transport" // connection, TLS or protocol failure
	ReasonHTTP      Reason = "http"      // non-2xx status without a gateway envelope
	ReasonDecode    Reason = "decode"    // not a gateway envelope, or too large
	ReasonRetcode   Reason = "retcode"   // the gateway answered with a non-zero retcode
)

// Reasons lists every Reason, for documentation and tests.
var Reasons = []Reason{ReasonTimeout, ReasonTransport, ReasonHTTP, ReasonDecode, ReasonRetcode}

// QueryError is a failed query. Its text never contains the Guid: the Guid
// travels only in a request header, which no error here repeats.
type QueryError struct {
	Reason Reason
	// Retcode is the gateway's code when Reason is ReasonRetcode.
	Retcode string
	// Message is the gateway's own text for a retcode answer.
	Message string
	Err     error
}

func (e *QueryError) Error() string {
	if e.Reason == ReasonRetcode {
		return fmt.Sprintf("gateway answered retcode %s (%q)", e.Retcode, e.Message)
	}
	return fmt.Sprintf("%s: %v", e.Reason, e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// Client queries one CC-Gateway. It is safe for concurrent use.
type Client struct {
	httpClient *http.Client
	// send is httpClient.Do, or with NoRedirects its transport's RoundTrip.
	send         func(*http.Request) (*http.Response, error)
	baseURL      string
	maxBodyBytes int64
}

// ClientOption changes how a Client sends its requests.
type ClientOption func(*Client)

// NoRedirects sends requests straight to the HTTP client's transport, for
// an HTTP client that follows no redirects anyway (as the HTTP settings'
// follow_redirects: false makes it). http.Client copies every request's
// headers and address in case it has to follow a redirect: 600 bytes and
// six allocations a query left to the garbage collector, ten thousand
// times a scrape (BenchmarkQuery). A client with a cookie jar or a timeout
// of its own keeps http.Client.Do.
func NoRedirects() ClientOption {
	return func(c *Client) {
		if hc := c.httpClient; hc.Transport != nil && hc.Jar == nil && hc.Timeout == 0 {
			c.send = c.roundTrip
		}
	}
}

// NewClient returns a client for the gateway at baseURL (scheme, host and
// port; any path is kept as a prefix).
func NewClient(baseURL *url.URL, httpClient *http.Client, opts ...ClientOption) *Client {
	base := *baseURL
	base.RawQuery, base.Fragment = "", ""
	c := &Client{
		httpClient:   httpClient,
		send:         httpClient.Do,
		baseURL:      trimSlash(base.String()),
		maxBodyBytes: DefaultMaxBodyBytes,
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// roundTrip is http.Client.Do for a client without redirects, cookies or a
// timeout of its own: the transport's answer, a failure named as Do names
// it.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.httpClient.Transport.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: req.Method[:1] + strings.ToLower(req.Method[1:]), URL: req.URL.Redacted(), Err: err}
	}
	return resp, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// CallInfoURL is the queryCallInfo address for one agent.
func (c *Client) CallInfoURL(agentID string, includeLastCall bool) string {
	// The documented meaning of isNoContainLastCall=true is "return the last
	// call when the agent has none", despite its name.
	return c.baseURL + "/agentgateway/resource/calldata/" + url.PathEscape(agentID) +
		"/callinfo?isNoContainLastCall=" + strconv.FormatBool(includeLastCall)
}

// QueryCallInfo asks the gateway for the agent's current (or last) call. A
// non-nil error is always a *QueryError; for ReasonRetcode the Answer is
// returned as well.
func (c *Client) QueryCallInfo(ctx context.Context, agentID, guid string, includeLastCall bool) (*Answer, error) {
	answer, _, err := c.QueryCallInfoGUID(ctx, agentID, guid, includeLastCall)
	return answer, err
}

// QueryCallInfoGUID is QueryCallInfo that also returns the Guid of a
// Set-GUID answer header, "" when there is none. The documentation
// promises that header only on event polls and heartbeats, but a gateway
// that renews a Guid may send it on any answer.
func (c *Client) QueryCallInfoGUID(ctx context.Context, agentID, guid string, includeLastCall bool) (answer *Answer, newGUID string, err error) {
	answer, header, err := query(ctx, c, http.MethodGet, c.CallInfoURL(agentID, includeLastCall), guid, nil, DecodeAnswer)
	return answer, SetGUID(header), err
}

// SetGUID extracts the Guid from a Set-GUID header such as
// "JSESSIONID=<uuid>.AgentGateway0": the whole part after "JSESSIONID=",
// suffix included, since the gateway expects it back as issued.
func SetGUID(header http.Header) string {
	value := strings.TrimSpace(header.Get("Set-GUID"))
	value, _, _ = strings.Cut(value, ";")
	if name, guid, found := strings.Cut(value, "="); found && strings.EqualFold(strings.TrimSpace(name), "JSESSIONID") {
		value = guid
	}
	return strings.TrimSpace(value)
}

// retcoded is what query needs of a decoded answer of any interface.
type retcoded interface {
	envelope() (retcode, message string)
}

func (a *Answer) envelope() (retcode, message string) { return a.Retcode, a.Message }

// query sends one request to the gateway and decodes its bounded answer with
// decode, which must copy whatever it keeps of the body. Every interface of
// the gateway shares this, so all of them classify failures alike: a
// non-nil error is always a *QueryError, and for ReasonRetcode the decoded
// answer is returned as well. The answer's headers come back whenever there
// was an answer, for a Set-GUID in them.
func query[A retcoded](ctx context.Context, c *Client, method, target, guid string, reqBody []byte, decode func([]byte) (A, error)) (A, http.Header, error) {
	var none A
	var body io.Reader = http.NoBody
	if reqBody != nil {
		body = bytes.NewReader(reqBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return none, nil, &QueryError{Reason: ReasonTransport, Err: err}
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Guid", guid)

	resp, err := c.send(req)
	if err != nil {
		return none, nil, classifyTransport(ctx, err)
	}
	defer resp.Body.Close()

	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBody {
			bodyBuffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, c.maxBodyBytes+1)); err != nil {
		return none, resp.Header, classifyTransport(ctx, err)
	}
	raw := buf.Bytes()
	if int64(len(raw)) > c.maxBodyBytes {
		return none, resp.Header, &QueryError{Reason: ReasonDecode, Err: fmt.Errorf("answer larger than %d bytes", c.maxBodyBytes)}
	}
	// Drain what little may remain so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))

	answer, decodeErr := decode(raw)
	statusOK := resp.StatusCode >= 200 && resp.StatusCode < 300
	if decodeErr != nil {
		if !statusOK {
			return none, resp.Header, &QueryError{Reason: ReasonHTTP, Err: fmt.Errorf("HTTP status %d", resp.StatusCode)}
		}
		return none, resp.Header, &QueryError{Reason: ReasonDecode, Err: decodeErr}
	}
	if retcode, message := answer.envelope(); retcode != RetcodeSuccess {
		// The gateway sends its error bodies with any status; its retcode is
		// the more precise diagnosis.
		return answer, resp.Header, &QueryError{Reason: ReasonRetcode, Retcode: retcode, Message: message}
	}
	if !statusOK {
		return none, resp.Header, &QueryError{Reason: ReasonHTTP, Err: fmt.Errorf("HTTP status %d with a success envelope", resp.StatusCode)}
	}
	return answer, resp.Header, nil
}

func classifyTransport(ctx context.Context, err error) *QueryError {
	var netErr net.Error
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		(errors.As(err, &netErr) && netErr.Timeout()) {
		return &QueryError{Reason: ReasonTimeout, Err: err}
	}
	return &QueryError{Reason: ReasonTransport, Err: err}
}
