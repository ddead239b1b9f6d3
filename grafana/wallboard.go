package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// wallboard is the row a contact center watches first: the skill queues
// (with `queues:` on the gateway) and the agents by state (the gateway's
// own states need `agent_state: true`). It reads the recorded series of
// the agentgateway.queues rule group.
func wallboard() row {
	return row{"Wallboard", []cog.Builder[dashboard.Panel]{
		stat("Calls waiting", "Calls waiting in the skill queues now, all queues of the selected gateways.", "none",
			q{`sum(gateway:agentgateway_queue_calls_waiting:sum{` + gw + `})`, ""}).
			Thresholds(steps("green", at{1, "orange"}, at{10, "red"})),
		stat("Longest wait", "How long the caller waiting longest in any queue has waited.", "s",
			q{`max(gateway:agentgateway_queue_longest_wait_seconds:max{` + gw + `})`, ""}).
			Thresholds(steps("green", at{60, "orange"}, at{120, "red"})),
		stat("Agents resting", "Share of the signed-in agents in rest or pre-rest (needs agent_state: true).", "percentunit",
			q{`gateway:agentgateway_agents_resting:ratio{` + gw + `}`, "{{gateway}}"}),
		stat("Agents in wrap-up", "Share of the signed-in agents doing after-call work (needs agent_state: true).", "percentunit",
			q{`gateway:agentgateway_agents_wrap_up:ratio{` + gw + `}`, "{{gateway}}"}),
		timeseries("Calls waiting per queue", "Calls waiting in each skill queue, as the gateway answered at each scrape.", "none",
			q{`gateway_skill:agentgateway_queue_calls_waiting:max{` + gw + `}`, "{{gateway}} {{skill}}"}),
		timeseries("Longest wait per queue", "How long the caller waiting longest in each skill queue has waited.", "s",
			q{`gateway_skill:agentgateway_queue_longest_wait_seconds:max{` + gw + `}`, "{{gateway}} {{skill}}"}),
		timeseries("Agents available and signed in per queue", "Agents of each skill queue available now, and signed in to it.", "none",
			q{`gateway_skill:agentgateway_queue_agents_available:max{` + gw + `}`, "{{gateway}} {{skill}} available"},
			q{`gateway_skill:agentgateway_queue_agents_signed_in:max{` + gw + `}`, "{{gateway}} {{skill}} signed in"}),
		pie("Agents by state now", "Every agent in exactly one state: from its call (idle, ringing, talking), or with agent_state: true the gateway's own (busy, rest, pre_rest, wrap_up), or why it could not be asked.", "none",
			q{`sum by (state) (gateway_state:agentgateway_agents:sum{` + gw + `})`, "{{state}}"}),
	}}
}
