package collector

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// With `agent_state: true` each agent's query is followed by the gateway's
// agentstatus for the same agent, in the same connection slot, so the
// agent's state can say what the call information cannot: rest, pre-rest,
// wrap-up and busy. The two answers travel together in one observation,
// so min_interval shares both.

// Agent states only the gateway's agentstatus knows.
const (
	stateBusy    = gateway.StateBusy
	stateRest    = gateway.StateRest
	statePreRest = gateway.StatePreRest
	stateWrapUp  = gateway.StateWrapUp
)

// gatewayStates win over the call-derived state: a call still reported
// (the one just ended, or one ringing during pre-rest) does not change
// what the agent is doing. For talking and idle the call information wins,
// being read with the call's own phase times and telling ringing apart.
var gatewayStates = map[string]bool{stateBusy: true, stateRest: true, statePreRest: true, stateWrapUp: true, stateSignedOut: true}

// allStatesByName are the states of a gateway with agent_state on, in the
// order of the exposition; every agent lists all of them.
var allStatesByName = func() []string {
	states := append(slices.Clone(agentStates), stateBusy, stateRest, statePreRest, stateWrapUp)
	return slices.Sorted(slices.Values(states))
}()

// queryStatus asks for the agent's own state after an answered callinfo,
// holding the caller's slot. A failure leaves the call-derived state and
// is counted with the agent's query errors.
func (gw *gatewayTarget) queryStatus(ctx context.Context, a *agentTarget, guid string, obs *observation) {
	if gw.limiter != nil {
		if err := gw.limiter.Wait(ctx); err != nil {
			obs.statusErr = &gateway.QueryError{Reason: gateway.ReasonTimeout, Err: err}
			return
		}
	}
	reqCtx, cancel := context.WithTimeout(ctx, time.Duration(gw.cfg.Timeout))
	defer cancel()
	answer, err := gw.api().QueryAgentStatus(reqCtx, a.id, guid)
	if err != nil {
		if !errors.As(err, &obs.statusErr) {
			obs.statusErr = &gateway.QueryError{Reason: gateway.ReasonTransport, Err: err}
		}
		return
	}
	if answer.Status != nil {
		if name, ok := answer.Status.Name(); ok {
			obs.gatewayState = name
		}
	}
}

// state is the agent's one current state: a failed query decides first,
// then a state only the gateway knows, then the call information.
func (o *observation) state() string {
	if o.err == nil && gatewayStates[o.gatewayState] {
		return o.gatewayState
	}
	return o.callState()
}
