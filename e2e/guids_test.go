package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// The simulated gateway runs in dynamic authentication, as a default
// CC-Gateway does, with times cut from minutes to seconds: each Guid is
// renewed every guidInterval and the exporter stops sending one older than
// guidTTL, so that a stopped supply shows within seconds.
const (
	guidInterval = 3 * time.Second
	guidTimeout  = 12 * time.Second
	guidTTL      = 10 * time.Second
	// signedOutGUID is a Guid no gateway issued, for the signed-out agent.
	signedOutGUID = "00000000-0000-0000-0000-000000000000.AgentGateway0"
)

// dynamicAuthArgs are gatewaysim's flags for dynamic authentication with
// its session owner pushing every new Guid to the exporter at pushURL.
func dynamicAuthArgs(pushURL, tokenFile string) []string {
	return []string{
		"--auth-mode=dynamic", "--guid-interval=" + guidInterval.String(), "--guid-timeout=" + guidTimeout.String(),
		"--poll-wait=1s", "--config-guid-ttl=" + guidTTL.String(),
		"--push.url=" + pushURL, "--push.token-file=" + tokenFile, "--push.retry-delay=1s",
	}
}

// newPushToken makes the bearer token the exporter's push API asks for.
func newPushToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// guidSupply is the site's Guid supply: gatewaysim's session owner, which
// pushes the Guids of the simulated agents, and the test's own pusher for
// the agent the gateway does not know, whose made-up Guid would otherwise
// expire after guid_ttl and leave it no_guid instead of signed out.
type guidSupply struct {
	sim    *process
	paused atomic.Bool
}

// pause stops every push: gatewaysim's session owner pauses on SIGUSR1 and
// keeps its agents signed in, so only the supply stops, not the gateway.
func (s *guidSupply) pause() error {
	s.paused.Store(true)
	return s.sim.cmd.Process.Signal(syscall.SIGUSR1)
}

// resume undoes pause (SIGUSR2 for gatewaysim).
func (s *guidSupply) resume() error {
	s.paused.Store(false)
	return s.sim.cmd.Process.Signal(syscall.SIGUSR2)
}

// pushEverySecond pushes guid for agent id of gateway until ctx ends,
// except while paused; a failed push is tried again a second later.
func (s *guidSupply) pushEverySecond(ctx context.Context, pushURL, token, gateway, id, guid string) {
	body, _ := json.Marshal(map[string]any{"gateway": gateway, "guids": map[string]string{id: guid}})
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		if !s.paused.Load() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, pushURL, bytes.NewReader(body))
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+token)
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// checkRenewal fails unless, over the last window, every simulated agent's
// Guid stayed younger than guid_ttl and none went without a usable Guid.
// The session owner pushes a Guid only when the gateway renewed it, so this
// holds only while renewals reach the exporter; at start-up it does not
// hold yet, since the agents are still signing in.
func checkRenewal(ctx context.Context, api promAPI, agents int, window time.Duration) error {
	sim := fmt.Sprintf(`{agent_id!=%q}`, signedOutAgent)
	w := "[" + strconv.Itoa(int(window.Seconds())) + "s]"
	ages, err := api.query(ctx, "max_over_time(agentgateway_agent_guid_age_seconds"+sim+w+")")
	if err != nil {
		return err
	}
	if len(ages) != agents {
		return fmt.Errorf("Guid ages of %d agents, want %d", len(ages), agents)
	}
	for _, s := range ages {
		if age := sampleValue([]sample{s}); !(age < guidTTL.Seconds()) { // NaN fails too
			return fmt.Errorf("agent %s: Guid %.0fs old within the last %v, guid_ttl is %v", s.Metric["agent_id"], age, window, guidTTL)
		}
	}
	// The window must be covered: right after start-up a young Guid
	// proves nothing about its renewal.
	scrapes, err := api.query(ctx, "min(count_over_time(agentgateway_agent_guid_age_seconds"+sim+w+"))")
	if err != nil {
		return err
	}
	if n := sampleValue(scrapes); !(n >= 2*window.Seconds()/3) { // NaN fails too
		return fmt.Errorf("%.0f scrapes of Guid ages in the last %v, too few to judge", n, window)
	}
	noGUID, err := api.query(ctx, `max_over_time(agentgateway_agent_query_failed{reason="no_guid",agent_id!="`+signedOutAgent+`"}`+w+`) == 1`)
	if err != nil {
		return err
	}
	if len(noGUID) > 0 {
		return fmt.Errorf("%d agents without a usable Guid within the last %v", len(noGUID), window)
	}
	return nil
}

// countNoGUID is how many agents Prometheus last saw without a usable Guid.
func countNoGUID(ctx context.Context, api promAPI) (int, error) {
	samples, err := api.query(ctx, `sum(agentgateway_agent_state{state="no_guid"})`)
	if err != nil {
		return 0, err
	}
	if len(samples) == 0 {
		return 0, errors.New(`no agentgateway_agent_state{state="no_guid"} series`)
	}
	return int(sampleValue(samples)), nil
}

// sampleValue is the value of the first sample, or NaN.
func sampleValue(samples []sample) float64 {
	if len(samples) == 0 {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(fmt.Sprint(samples[0].Value[1]), 64)
	if err != nil {
		return math.NaN()
	}
	return v
}
