package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-kit/log/level"

	"github.com/agentgateway/agentgateway_exporter/internal/httpcall"
)

func (d *Desktop) signIn(ctx context.Context, a *deskAgent) turn {
	body, _ := json.Marshal(map[string]string{"password": "", "phonenum": a.id})
	code, guid, err := d.call(ctx, http.MethodPut, onlineAgentPrefix+a.id, "", body)
	if err == nil && code == retcodeSignedInAlready {
		// A session of an earlier run, or one whose Guid was lost: take it over.
		code, guid, err = d.call(ctx, http.MethodPut, onlineAgentPrefix+a.id+"/forcelogin", "", body)
	}
	if err != nil || code != retcodeOK || guid == "" {
		d.stats.signInFailures.Add(1)
	}
	switch {
	case err != nil:
		d.warn(a, "msg", "sign-in failed", "agent", a.id, "err", err)
		return turnRetry
	case code != retcodeOK || guid == "":
		d.warn(a, "msg", "sign-in refused", "agent", a.id, "retcode", code, "guid_header", guid != "")
		return turnRetry
	}
	d.stats.signIns.Add(1)
	a.badPolls, a.failing = 0, false
	d.setGUID(a, guid)
	return turnNow
}

func (d *Desktop) poll(ctx context.Context, a *deskAgent) turn {
	code, guid, err := d.call(ctx, http.MethodGet, agentEventPrefix+a.id, a.currentGUID(), nil)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			d.stats.pollFailures.Add(1)
			d.warn(a, "msg", "event poll failed", "agent", a.id, "err", err)
		}
		return turnRetry
	case code == retcodeOK:
		d.stats.polls.Add(1)
		a.badPolls, a.failing = 0, false
		if guid != "" && guid != a.currentGUID() {
			d.stats.renewals.Add(1)
			d.setGUID(a, guid)
		}
		return turnRepoll
	}
	d.stats.pollFailures.Add(1)
	switch code {
	case retcodeNoPermission:
		if a.badPolls++; a.badPolls < badPollsBeforeSignIn {
			return turnRetry
		}
	case retcodeNotSignedIn, "100-008", "105-005", "105-006", "105-007":
	default:
		d.warn(a, "msg", "event poll refused", "agent", a.id, "retcode", code)
		return turnRetry
	}
	level.Info(d.logger).Log("msg", "session lost; signing in again", "agent", a.id, "retcode", code)
	d.setGUID(a, "")
	return turnRetry
}

// warn logs a failure at warning level the first time in a row for the agent and at debug level
// after that, so that a gateway that is down does not fill the log with a line per agent and retry.
func (d *Desktop) warn(a *deskAgent, keyvals ...any) {
	logAt := level.Debug
	if !a.failing {
		logAt, a.failing = level.Warn, true
	}
	logAt(d.logger).Log(keyvals...)
}

// call sends one request to the gateway and returns the retcode and the Guid of a Set-GUID header.
func (d *Desktop) call(ctx context.Context, method, path, guid string, body []byte) (retcode, newGUID string, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.o.PollTimeout)
	defer cancel()
	ans, err := httpcall.Do(ctx, d.gateway, httpcall.Request{Method: method, URL: d.base + path, Body: body, Limit: maxAnswerSize}, func(h http.Header) {
		h.Set("Content-Type", "application/json; charset=UTF-8")
		if guid != "" {
			h.Set("Guid", guid)
		}
	})
	if err != nil {
		return "", "", err
	}
	var envelope struct {
		Retcode json.RawMessage `json:"retcode"`
	}
	if json.Unmarshal(ans.Body, &envelope) != nil || len(envelope.Retcode) == 0 {
		return "", "", fmt.Errorf("HTTP %d without a gateway answer", ans.StatusCode)
	}
	return strings.Trim(string(envelope.Retcode), `"`), guidOf(ans.Header.Get(SetGuidHeader)), nil
}

// guidOf takes the Guid out of a Set-GUID value such as "JSESSIONID=<uuid>.AgentGateway0", leniently:
// cookie attributes after ";" are dropped, and a value without the name is taken whole.
func guidOf(header string) string {
	value, _, _ := strings.Cut(header, ";")
	value = strings.TrimSpace(value)
	if name, guid, ok := strings.Cut(value, "="); ok && strings.EqualFold(name, "JSESSIONID") {
		value = guid
	}
	return strings.TrimSpace(value)
}
