package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-kit/log/level"

	"github.com/agentgateway/agentgateway_exporter/internal/httpcall"
)

// pushRequest is the body of the exporter's Guid push API.
type pushRequest struct {
	Gateway string            `json:"gateway"`
	Guids   map[string]string `json:"guids"`
}

// pushAnswer is its answer to 200.
type pushAnswer struct {
	Accepted *int              `json:"accepted"`
	Rejected map[string]string `json:"rejected"`
}

// maxLoggedRejections keeps one bad push from flooding the log with thousands of agents.
const maxLoggedRejections = 10

// setGUID records the agent's Guid ("" after losing the session) and schedules a push of a new one.
func (d *Desktop) setGUID(a *deskAgent, guid string) {
	a.mu.Lock()
	a.guid = guid
	a.mu.Unlock()
	if guid != "" {
		d.markDirty(a)
	}
}

func (d *Desktop) markDirty(agents ...*deskAgent) {
	if d.o.PushURL == "" {
		return
	}
	d.mu.Lock()
	for _, a := range agents {
		d.dirty[a] = struct{}{}
	}
	d.mu.Unlock()
	d.poke()
}

func (d *Desktop) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// PushAll pushes every Guid the desktop holds again, as for an exporter that restarted.
func (d *Desktop) PushAll() {
	d.markDirty(d.agents...)
}

// pusher sends the Guids that changed, gathering those that change close together into one push.
func (d *Desktop) pusher(ctx context.Context) {
	var resync <-chan time.Time
	if d.o.ResyncInterval > 0 {
		ticker := time.NewTicker(d.o.ResyncInterval)
		defer ticker.Stop()
		resync = ticker.C
	}
	for {
		select {
		case <-d.wake:
		case <-resync:
			d.PushAll()
			continue
		case <-ctx.Done():
			return
		}
		if !sleepContext(ctx, d.o.PushDelay) {
			return
		}
		d.flush(ctx)
	}
}

// flush pushes until nothing is left to push, or the pushes are paused, or ctx ends. A failed push is
// sent again after RetryDelay, with the Guids current by then.
func (d *Desktop) flush(ctx context.Context) {
	failed := 0
	for {
		if d.pushing.wait(ctx) != nil {
			return
		}
		d.pushMu.Lock()
		if !d.pushing.isOpen() {
			d.pushMu.Unlock()
			continue
		}
		agents, guids := d.takeDirty()
		if len(agents) == 0 {
			d.pushMu.Unlock()
			return
		}
		status, err := d.send(ctx, guids)
		d.pushMu.Unlock()
		if err == nil {
			failed = 0
			continue
		}
		d.markDirty(agents...)
		if ctx.Err() != nil {
			return
		}
		d.stats.pushFailures.Add(1)
		if status == http.StatusRequestEntityTooLarge && d.batch > 1 {
			d.batch /= 2
			level.Warn(d.logger).Log("msg", "Guid push too large; sending smaller ones", "guids", len(guids), "batch", d.batch)
			continue
		}
		// An exporter that is not up yet fails every push until it is: one warning, then one now and then.
		failed++
		logAt := level.Debug
		if failed == 1 || failed%30 == 0 {
			logAt = level.Warn
		}
		logAt(d.logger).Log("msg", "Guid push failed; trying again", "url", d.pushFor, "guids", len(guids),
			"failures_in_a_row", failed, "err", err)
		if !sleepContext(ctx, d.o.RetryDelay) {
			return
		}
	}
}

// takeDirty takes up to one batch of agents to push, with their Guids.
func (d *Desktop) takeDirty() ([]*deskAgent, map[string]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	agents := make([]*deskAgent, 0, min(len(d.dirty), d.batch))
	guids := make(map[string]string, cap(agents))
	for a := range d.dirty {
		if len(agents) == d.batch {
			break
		}
		delete(d.dirty, a)
		// An agent that lost its session since has nothing to push; its next sign-in will.
		if guid := a.currentGUID(); guid != "" {
			agents = append(agents, a)
			guids[a.id] = guid
		}
	}
	return agents, guids
}

// send makes one push. Its errors name the HTTP status, never the Guids or the token.
func (d *Desktop) send(ctx context.Context, guids map[string]string) (status int, err error) {
	body, err := json.Marshal(pushRequest{Gateway: d.o.Gateway, Guids: guids})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.PollTimeout)
	defer cancel()
	ans, err := httpcall.Do(ctx, d.push, httpcall.Request{Method: http.MethodPut, URL: d.o.PushURL, Body: body, Limit: maxAnswerSize}, func(h http.Header) {
		h.Set("Content-Type", "application/json")
		h.Set("Authorization", "Bearer "+d.o.PushToken)
	})
	if err != nil {
		return ans.StatusCode, err
	}
	if ans.StatusCode != http.StatusOK {
		return ans.StatusCode, fmt.Errorf("HTTP %d", ans.StatusCode)
	}
	var answer pushAnswer
	if err := json.Unmarshal(ans.Body, &answer); err != nil || answer.Accepted == nil {
		return http.StatusOK, errors.New("HTTP 200 without the push API's answer")
	}
	d.stats.pushes.Add(1)
	d.stats.accepted.Add(int64(*answer.Accepted))
	d.stats.rejected.Add(int64(len(answer.Rejected)))
	d.logRejections(answer.Rejected, guids)
	return http.StatusOK, nil
}

func (d *Desktop) logRejections(rejected, guids map[string]string) {
	ids := make([]string, 0, len(rejected))
	for id := range rejected {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for i, id := range ids {
		if i == maxLoggedRejections {
			level.Warn(d.logger).Log("msg", "the exporter rejected more Guids", "more", len(ids)-i)
			return
		}
		reason := rejected[id]
		// The exporter promises not to echo Guids; this makes sure a broken one cannot leak them here.
		for _, guid := range guids {
			if strings.Contains(reason, guid) {
				reason = "(withheld: it quotes a Guid)"
				break
			}
		}
		level.Warn(d.logger).Log("msg", "the exporter rejected a Guid", "agent", id, "reason", reason)
	}
}

func sleepContext(ctx context.Context, d time.Duration) bool {
	return sleepFor(ctx, d, nil) == slept && ctx.Err() == nil
}
