package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// show renders a Number for comparisons, "?" when it is not known.
func show(n Number) string {
	if !n.Valid() {
		return "?"
	}
	return fmt.Sprint(n.Value())
}

func queueLines(queues []QueueStat) []string {
	lines := []string{}
	for _, q := range queues {
		lines = append(lines, fmt.Sprintf("%s waiting=%s longest=%s in=%s avail=%s desc=%q",
			show(q.SkillID), show(q.CallsWaiting), show(q.LongestWaitSeconds), show(q.AgentsSignedIn), show(q.AgentsAvailable), q.Description))
	}
	return lines
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	content, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(content)
}

func TestDecodeACDStat(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantErr     bool
		wantRetcode string
		want        []string
	}{
		{
			name: "documented shape", body: readTestdata(t, "acdstat-documented-shape.json"), wantRetcode: "0",
			want: []string{
				`20011 waiting=3 longest=42 in=12 avail=0 desc="voice"`,
				`20012 waiting=0 longest=0 in=4 avail=2 desc="video"`,
			},
		},
		{
			// Strings for numbers, an exponent, "" and null, an entry without
			// an id, one that is not an object, unknown keys, a repeated id.
			name: "quirks", body: readTestdata(t, "acdstat-quirks.json"), wantRetcode: "0",
			want: []string{
				`20011 waiting=5 longest=120 in=7 avail=? desc="20011"`,
				`20013 waiting=? longest=-1 in=? avail=1 desc=""`,
				`20099 waiting=1 longest=? in=? avail=? desc=""`,
				`20011 waiting=99 longest=? in=? avail=? desc=""`,
			},
		},
		{
			name: "lone object instead of a list", wantRetcode: "0",
			body: `{"retcode":"0","result":{"deviceNo":20011,"queueSize":2}}`,
			want: []string{`20011 waiting=2 longest=? in=? avail=? desc=""`},
		},
		{
			// Brackets and commas inside strings and nested values do not
			// split entries; a list inside the list is not an entry.
			name: "nesting and brackets in strings", wantRetcode: "0",
			body: `{"retcode":"0","result":[[{"deviceNo":1}], {"deviceNo":2,"x":[[],{"a":","}]} ,"]",{"deviceNo":3,"skillDescrip":"a\"]},{"}]}`,
			want: []string{`2 waiting=? longest=? in=? avail=? desc=""`, `3 waiting=? longest=? in=? avail=? desc="a\"]},{"`},
		},
		{name: "result null", body: `{"retcode":"0","result":null}`, wantRetcode: "0", want: []string{}},
		{name: "result empty string", body: `{"retcode":"0","result":""}`, wantRetcode: "0", want: []string{}},
		{name: "result absent", body: `{"retcode":"0"}`, wantRetcode: "0", want: []string{}},
		{name: "result empty list", body: `{"retcode":"0","result":[]}`, wantRetcode: "0", want: []string{}},
		{name: "error body", body: `{"retcode":"100-006","message":"agent not login","result":""}`, wantRetcode: "100-006", want: []string{}},
		{name: "error body with entries", body: `{"retcode":"000-003","result":[{"deviceNo":1,"queueSize":1}]}`, wantRetcode: "000-003", want: []string{}},
		{name: "result a number", body: `{"retcode":"0","result":5}`, wantErr: true},
		{name: "HTML", body: `<html>502</html>`, wantErr: true},
		{name: "truncated", body: `{"retcode":"0","result":[{"deviceNo":1`, wantErr: true},
		{name: "no retcode", body: `{"result":[]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, ok := decodeCase(t, tt.body, tt.wantErr, tt.wantRetcode, DecodeACDStat)
			if !ok {
				return
			}
			if got := queueLines(answer.Queues); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("queues:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// decodeCase decodes body and checks the outcome every decoder test
// shares: ErrEnvelope and no answer when wantErr, otherwise the retcode.
// It reports whether there is an answer to check further.
func decodeCase[A retcoded](t *testing.T, body string, wantErr bool, wantRetcode string, decode func([]byte) (A, error)) (A, bool) {
	t.Helper()
	answer, err := decode([]byte(body))
	if wantErr {
		if !errors.Is(err, ErrEnvelope) {
			t.Fatalf("got %+v, %v; want ErrEnvelope", answer, err)
		}
		return answer, false
	}
	if err != nil {
		t.Fatal(err)
	}
	retcode, _ := answer.envelope()
	expect(t, "retcode", retcode, wantRetcode)
	return answer, true
}

func TestACDStatByID(t *testing.T) {
	answer, err := DecodeACDStat([]byte(readTestdata(t, "acdstat-quirks.json")))
	if err != nil {
		t.Fatal(err)
	}
	got := answer.ByID([]int64{20011, 20012, 20013})
	// 20099 was not asked for; 20012 was not answered; the first 20011 wins.
	if len(got) != 2 {
		t.Fatalf("ByID = %+v, want 20011 and 20013 only", got)
	}
	expect(t, "20011 waiting", show(got[20011].CallsWaiting), "5")
	expect(t, "20013 available", show(got[20013].AgentsAvailable), "1")
	if _, ok := got[20012]; ok {
		t.Error("20012 has statistics although the gateway sent none")
	}
}

func TestDecodeACDStatTruncates(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"retcode":"0","result":[`)
	for i := range MaxSkillsPerQuery + 5 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"deviceNo":%d,"queueSize":1}`, 30000+i)
	}
	b.WriteString("]}")
	answer, err := DecodeACDStat([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "truncated", answer.Truncated, true)
	expect(t, "queues kept", len(answer.Queues), MaxSkillsPerQuery)
	expect(t, "last kept", show(answer.Queues[MaxSkillsPerQuery-1].SkillID), fmt.Sprint(30000+MaxSkillsPerQuery-1))
}

func TestDecodeVDNSkills(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{
			name: "documented shape", body: readTestdata(t, "vdnskill-documented-shape.json"),
			want: []string{"20011 voice media=5 real=1", "20012 video media=19 real=1", "1 default media=5 real=0"},
		},
		{
			name: "quirks", body: `{"retcode":"0","result":[{"id":"20011","name":"voice","mediatype":"5"},{"name":"no id"},{"id":20012,"name":null},7]}`,
			want: []string{"20011 voice media=5 real=?", "20012  media=? real=?"},
		},
		{name: "lone object", body: `{"retcode":"0","result":{"id":3,"name":"x"}}`, want: []string{"3 x media=? real=?"}},
		{name: "null", body: `{"retcode":"0","result":null}`, want: []string{}},
		{name: "error", body: `{"retcode":"600-005","message":"no skill","result":""}`, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, err := DecodeVDNSkills([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, s := range answer.Skills {
				got = append(got, fmt.Sprintf("%s %s media=%s real=%s", show(s.ID), s.Name, show(s.MediaType), show(s.RealFlag)))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("skills:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	if _, err := DecodeVDNSkills([]byte(`{"retcode":"0","result":"voice"}`)); !errors.Is(err, ErrEnvelope) {
		t.Errorf("a string result: error %v, want ErrEnvelope", err)
	}
}

func TestSkillBatches(t *testing.T) {
	ids := func(n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(i + 1)
		}
		return out
	}
	for _, tt := range []struct {
		n    int
		want []int
	}{{0, []int{}}, {1, []int{1}}, {100, []int{100}}, {101, []int{100, 1}}, {250, []int{100, 100, 50}}} {
		batches := SkillBatches(ids(tt.n))
		sizes := []int{}
		var joined []int64
		for _, b := range batches {
			sizes = append(sizes, len(b))
			joined = append(joined, b...)
		}
		if !reflect.DeepEqual(sizes, tt.want) {
			t.Errorf("SkillBatches(%d ids) sizes = %v, want %v", tt.n, sizes, tt.want)
		}
		if tt.n > 0 && !reflect.DeepEqual(joined, ids(tt.n)) {
			t.Errorf("SkillBatches(%d ids) lost or reordered ids", tt.n)
		}
	}
	// Appending to one batch must not overwrite the next.
	all := ids(150)
	batches := SkillBatches(all)
	_ = append(batches[0], 999)
	expect(t, "second batch intact", batches[1][0], int64(101))
}

// recorded is one request as the test server saw it.
type recorded struct {
	method, path, query, guid, contentType, body string
}

func recordingServer(t *testing.T, answer string) (*Client, *recorded) {
	t.Helper()
	got := &recorded{}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		*got = recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Guid"), r.Header.Get("Content-Type"), string(body)}
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(server.Close)
	base, _ := url.Parse(server.URL)
	return NewClient(base, server.Client()), got
}

func TestQueueAndStatusRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		answer   string
		call     func(c *Client) error
		want     recorded
		wantBody string
	}{
		{
			name:   "queryacdstat",
			answer: readTestdata(t, "acdstat-documented-shape.json"),
			call: func(c *Client) error {
				a, err := c.QueryACDStat(ctx, "1001", testGUID, []int64{20011, 20012})
				if err == nil && len(a.Queues) != 2 {
					err = fmt.Errorf("queues = %d, want 2", len(a.Queues))
				}
				return err
			},
			want: recorded{method: http.MethodPost, path: "/agentgateway/resource/queuedevice/1001/queryacdstat",
				body: `{"skills":[20011,20012]}`},
		},
		{
			name:   "agentvdnskill",
			answer: readTestdata(t, "vdnskill-documented-shape.json"),
			call: func(c *Client) error {
				a, err := c.QueryVDNSkills(ctx, "1001", testGUID)
				if err == nil && len(a.Skills) != 3 {
					err = fmt.Errorf("skills = %d, want 3", len(a.Skills))
				}
				return err
			},
			want: recorded{method: http.MethodGet, path: "/agentgateway/resource/queuedevice/1001/agentvdnskill"},
		},
		{
			name:   "agentstatus",
			answer: readTestdata(t, "agentstatus-documented.json"),
			call: func(c *Client) error {
				a, err := c.QueryAgentStatus(ctx, "1001", testGUID)
				if err == nil {
					if name, ok := a.Status.Name(); name != StateIdle || !ok {
						err = fmt.Errorf("state = %q, want idle", name)
					}
				}
				return err
			},
			want: recorded{method: http.MethodGet, path: "/agentgateway/resource/onlineagent/1001/agentstatus"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, got := recordingServer(t, tt.answer)
			if err := tt.call(client); err != nil {
				t.Fatal(err)
			}
			tt.want.guid = testGUID
			tt.want.contentType = "application/json; charset=UTF-8"
			if *got != tt.want {
				t.Errorf("request:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestQueryACDStatSkillCount(t *testing.T) {
	client, got := recordingServer(t, `{"retcode":"0","result":[]}`)
	for _, n := range []int{0, MaxSkillsPerQuery + 1} {
		if _, err := client.QueryACDStat(context.Background(), "1001", testGUID, make([]int64, n)); !errors.Is(err, ErrSkillCount) {
			t.Errorf("%d skills: error %v, want ErrSkillCount", n, err)
		}
	}
	if got.method != "" {
		t.Error("a request was sent for a refused skill count")
	}
	if _, err := client.QueryACDStat(context.Background(), "1001", testGUID, make([]int64, MaxSkillsPerQuery)); err != nil {
		t.Errorf("%d skills refused: %v", MaxSkillsPerQuery, err)
	}
}

// TestQueueAndStatusFailures checks that the new interfaces classify
// failures exactly as the call information query does.
func TestQueueAndStatusFailures(t *testing.T) {
	queries := map[string]func(ctx context.Context, c *Client) error{
		"queryacdstat": func(ctx context.Context, c *Client) error {
			_, err := c.QueryACDStat(ctx, "1001", testGUID, []int64{20011})
			return err
		},
		"agentvdnskill": func(ctx context.Context, c *Client) error {
			_, err := c.QueryVDNSkills(ctx, "1001", testGUID)
			return err
		},
		"agentstatus": func(ctx context.Context, c *Client) error {
			_, err := c.QueryAgentStatus(ctx, "1001", testGUID)
			return err
		},
	}
	failures := []struct {
		name        string
		handler     http.HandlerFunc
		timeout     time.Duration
		wantReason  Reason
		wantRetcode string
	}{
		{name: "retcode", handler: respond(http.StatusOK, `{"retcode":"000-003","message":"no right","result":""}`), wantReason: ReasonRetcode, wantRetcode: "000-003"},
		{name: "HTML error page", handler: respond(http.StatusBadGateway, "<html>502</html>"), wantReason: ReasonHTTP},
		{name: "success with an error status", handler: respond(http.StatusServiceUnavailable, `{"retcode":"0","result":[]}`), wantReason: ReasonHTTP},
		{name: "undecodable", handler: respond(http.StatusOK, `{"retcode":"0","result":7}`), wantReason: ReasonDecode},
		{
			name: "slow", timeout: 50 * time.Millisecond, wantReason: ReasonTimeout,
			handler: func(_ http.ResponseWriter, r *http.Request) {
				// The server notices the client leaving only once the
				// request body has been read.
				_, _ = io.Copy(io.Discard, r.Body)
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
		},
	}
	for name, run := range queries {
		for _, f := range failures {
			t.Run(name+"/"+f.name, func(t *testing.T) {
				server := httptest.NewServer(f.handler)
				defer server.Close()
				base, _ := url.Parse(server.URL)
				ctx := context.Background()
				if f.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, f.timeout)
					defer cancel()
				}
				err := run(ctx, NewClient(base, server.Client()))
				var queryErr *QueryError
				if !errors.As(err, &queryErr) {
					t.Fatalf("error %v (%T) is not a *QueryError", err, err)
				}
				expect(t, "reason", queryErr.Reason, f.wantReason)
				expect(t, "retcode", queryErr.Retcode, f.wantRetcode)
				if strings.Contains(err.Error(), testGUID) {
					t.Errorf("error text contains the Guid: %v", err)
				}
			})
		}
	}
}
