package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	chart "github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Selectors shared by the queries. Per-agent series follow both variables;
// per-gateway and recorded series only the gateway.
const (
	gw    = `gateway=~"$gateway"`
	agent = `gateway=~"$gateway", agent_id=~"$agent"`
	// Exporter-level series carry no gateway label: keep the exporters
	// that scrape one of the selected gateways.
	watching = ` and on (job, instance) agentgateway_gateway_up{` + gw + `}`
)

// noFailures is shown instead of "No data" by panels whose series exist only
// while something fails: empty is the healthy state, not a broken query.
const noFailures = "no failures"

// row is a titled row of the dashboard and the panels under it, left to
// right and top to bottom.
type row struct {
	title  string
	panels []cog.Builder[dashboard.Panel]
}

func rows() []row {
	upDown := valueText(shown{"1", "UP", "green"}, shown{"0", "DOWN", "red"})
	okFailed := valueText(shown{"1", "OK", "green"}, shown{"0", "FAILED", "red"})
	redIfAny := steps("green", at{1, "red"})
	orangeIfAny := steps("green", at{1, "orange"})
	// 80% of calls within 20 s is the usual target.
	slSteps := steps("red", at{0.7, "orange"}, at{0.8, "green"})

	return []row{
		wallboard(),

		{"Agents", []cog.Builder[dashboard.Panel]{
			stat("Agents configured", "Agents listed in agents.yml for the selected gateways.", "none",
				q{`sum(agentgateway_gateway_agents{` + gw + `})`, ""}),
			stat("Agents answering", "Agents whose last query returned retcode 0.", "none",
				q{`sum(agentgateway_agent_up{` + agent + `})`, ""}),
			stat("Agents signed out", "Agents the gateway reports as not signed in, or whose Guid it no longer accepts (100-006, 100-008, 000-003, 105-00x).", "none",
				q{`sum(agentgateway_agent_state{` + agent + `, state="signed_out"})`, ""}).
				Thresholds(orangeIfAny),
			stat("Agents failing", "Agents whose last query failed for another reason: timeout, transport, HTTP, undecodable answer or an unexpected retcode.", "none",
				q{`sum(agentgateway_agent_state{` + agent + `, state="error"})`, ""}).
				Thresholds(redIfAny),
			stat("Agents in call", "Agents with a call in progress now (ringing or talking).", "none",
				q{`sum(agentgateway_agent_in_call{` + agent + `})`, ""}),
			stat("Gateways", "Whether at least one query to the gateway got a decodable answer in the last scrape.", "none",
				q{`agentgateway_gateway_up{` + gw + `}`, "{{gateway}}"}).
				Thresholds(steps("red", at{1, "green"})).Mappings(upDown),
			stacked(timeseries("Agents by state", "Every agent is in exactly one state; \"error\" means its query failed for a reason other than a lost session, \"no_guid\" that it was not queried for want of a usable Guid.", "none",
				q{`sum by (state) (agentgateway_agent_state{` + agent + `})`, "{{state}}"})),
			stacked(timeseries("Failing queries by retcode", "Agents whose last query failed, by failure reason and gateway retcode (empty unless the reason is \"retcode\").", "none",
				q{`count by (reason, retcode) (agentgateway_agent_query_failed{` + agent + `})`, "{{reason}} {{retcode}}"})).
				NoValue(noFailures),
			guidAge(),
			// Every agent has a no_guid state series, so a healthy gateway shows 0 here.
			stat("Agents without a usable Guid", "Agents not queried because they have no Guid, or only one older than the gateway's guid_ttl: the session owner does not supply their Guids (see AgentGatewayGuidSupplyStale).", "none",
				q{`sum by (gateway) (agentgateway_agent_state{` + gw + `, state="no_guid"})`, "{{gateway}}"}).
				Thresholds(orangeIfAny).Span(graphW),
		}},

		{"Calls now", []cog.Builder[dashboard.Panel]{
			liveCalls(),
			timeseries("Agents in call", "Agents with a call in progress, per gateway.", "none",
				q{`sum by (gateway) (agentgateway_agent_in_call{` + agent + `})`, "{{gateway}}"}),
			pie("Calls in progress by media type", "Media type code of the current calls (5 voice, 19 video, 1 and 51 chat, 53 social media; see the interface document).", "none",
				q{`count by (media_type) (agentgateway_call_info{` + agent + `} and on (gateway, agent_id) (agentgateway_agent_in_call == 1))`, "{{media_type}}"}),
			pie("Ended calls by media type", "Calls that ended in the dashboard's time range, by media type code.", "none",
				q{`sum by (media_type) (increase(agentgateway_call_ring_duration_seconds_count{` + gw + `}[$__range]))`, "{{media_type}}"}),
		}},

		{"Ended calls", []cog.Builder[dashboard.Panel]{
			stacked(timeseries("Calls ended per minute by leave reason", "Leave reason of each ended call: 15/88 customer released, 16 agent released, 17 transferred, 26 customer did not answer, 50 agent rejected, 89 customer hung up before answer; \"unknown\" = the gateway gave no reason, \"unobserved\" = the call vanished between two scrapes.", "suffix: calls/min",
				q{`sum by (reason, reason_desc) (rate(agentgateway_call_leave_reason_total{` + agent + `}[$__rate_interval])) * 60`, "{{reason}} {{reason_desc}}"})),
			timeseries("Ring time (p90)", "90th percentile of the time calls rang at an agent before being answered, rejected or dropped.", "s",
				q{`histogram_quantile(0.9, sum by (gateway, skill, le) (rate(agentgateway_call_ring_duration_seconds_bucket{` + gw + `}[$__rate_interval])))`, "{{gateway}} {{skill}}"}),
		}},

		{"Contact-center KPIs (15-minute windows)", []cog.Builder[dashboard.Panel]{
			stat("Calls completed", "Ended calls per minute over the last minute, all reasons.", "suffix: calls/min",
				q{`gateway:agentgateway_calls_completed:rate1m{` + gw + `} * 60`, "{{gateway}}"}),
			stat("Service level (wait < 20 s)", "Share of the calls reaching an agent that waited less than 20 s in the queue. Calls abandoned in the queue never reach an agent and are not counted.", "percentunit",
				q{`gateway:agentgateway_service_level_20s:ratio_rate15m{` + gw + `}`, "{{gateway}}"}).
				Thresholds(slSteps),
			stat("Average speed of answer", "Mean queue wait of the calls that reached an agent.", "s",
				q{`gateway:agentgateway_call_wait_duration_seconds:mean15m{` + gw + `}`, "{{gateway}}"}),
			stat("Abandoned", "Share of ended calls the customer dropped: leave reasons 26 (did not answer) and 89 (hung up before answer).", "percentunit",
				q{`gateway:agentgateway_calls_abandoned:ratio_rate15m{` + gw + `}`, "{{gateway}}"}),
			stat("Rejected by agent", "Share of ended calls with leave reason 50.", "percentunit",
				q{`gateway:agentgateway_calls_rejected:ratio_rate15m{` + gw + `}`, "{{gateway}}"}).
				Thresholds(steps("green", at{0.05, "orange"}, at{0.1, "red"})),
			stat("Transferred", "Share of ended calls with leave reason 17.", "percentunit",
				q{`gateway:agentgateway_calls_transferred:ratio_rate15m{` + gw + `}`, "{{gateway}}"}),
			timeseries("Calls completed per minute", "Ended calls per minute, by skill (calls that rang at an agent) and per gateway (every ended call).", "suffix: calls/min",
				q{`gateway_skill:agentgateway_calls_completed:rate1m{` + gw + `} * 60`, "{{gateway}} {{skill}}"},
				q{`gateway:agentgateway_calls_completed:rate1m{` + gw + `} * 60`, "{{gateway}} all"}),
			timeseries("Service level by skill (wait < 20 s)", "Share of calls answered within 20 s, by skill.", "percentunit",
				q{`gateway_skill:agentgateway_service_level_20s:ratio_rate15m{` + gw + `}`, "{{gateway}} {{skill}}"}),
			timeseries("Queue wait: average (ASA) and p90", "Average speed of answer and 90th percentile of the queue wait, by skill.", "s",
				q{`gateway_skill:agentgateway_call_wait_duration_seconds:mean15m{` + gw + `}`, "{{gateway}} {{skill}} avg"},
				q{`gateway_skill:agentgateway_call_wait_duration_seconds:p90_rate15m{` + gw + `}`, "{{gateway}} {{skill}} p90"}),
			timeseries("Talk time: average and p90", "Average talk time and 90th percentile, by skill.", "s",
				q{`gateway_skill:agentgateway_call_talk_duration_seconds:mean15m{` + gw + `}`, "{{gateway}} {{skill}} avg"},
				q{`gateway_skill:agentgateway_call_talk_duration_seconds:p90_rate15m{` + gw + `}`, "{{gateway}} {{skill}} p90"}),
			timeseries("Call outcomes", "Share of ended calls abandoned by the customer (leave reasons 26 and 89), rejected by the agent (50) and transferred (17).", "percentunit",
				q{`gateway:agentgateway_calls_abandoned:ratio_rate15m{` + gw + `}`, "{{gateway}} abandoned"},
				q{`gateway:agentgateway_calls_rejected:ratio_rate15m{` + gw + `}`, "{{gateway}} rejected by agent"},
				q{`gateway:agentgateway_calls_transferred:ratio_rate15m{` + gw + `}`, "{{gateway}} transferred"}),
			timeseries("Calls without a leave reason", "Share of ended calls for which the gateway gave no reason (unknown), or whose end the exporter did not see (unobserved: the agent finished more than one call between two scrapes, or the exporter lost track). The outcome shares are only as good as these are low.", "percentunit",
				q{`gateway:agentgateway_calls_leave_reason_unknown:ratio_rate15m{` + gw + `}`, "{{gateway}} unknown"},
				q{`gateway:agentgateway_calls_unobserved:ratio_rate15m{` + gw + `}`, "{{gateway}} unobserved"}),
			timeseries("Agents per gateway", "Agents answering, in call, signed out, failing and not queried for want of a usable Guid, per gateway.", "none",
				q{`gateway:agentgateway_agents_up:sum{` + gw + `}`, "{{gateway}} answering"},
				q{`gateway:agentgateway_agents_in_call:sum{` + gw + `}`, "{{gateway}} in call"},
				q{`gateway:agentgateway_agents_signed_out:sum{` + gw + `}`, "{{gateway}} signed out"},
				q{`gateway:agentgateway_agents_failing:count{` + gw + `}`, "{{gateway}} failing"},
				q{`sum by (gateway) (agentgateway_agent_state{` + gw + `, state="no_guid"})`, "{{gateway}} without a usable Guid"}),
			timeseries("Occupancy (estimate)", "Time the answering agents spent in calls, sampled at every scrape: a call shorter than the scrape interval may be missed entirely.", "percentunit",
				q{`sum by (gateway) (avg_over_time(agentgateway_agent_in_call{` + agent + `}[$__rate_interval])) / sum by (gateway) (avg_over_time(agentgateway_agent_up{` + agent + `}[$__rate_interval]))`, "{{gateway}}"}),
		}},

		{"Exporter health", []cog.Builder[dashboard.Panel]{
			stat("Last configuration reload", "Whether the last reload of agents.yml succeeded.", "none",
				q{`agentgateway_config_last_reload_successful` + watching, "{{instance}}"}).
				Thresholds(steps("red", at{1, "green"})).Mappings(okFailed).Span(6),
			stat("Configuration loaded", "When agents.yml was last loaded successfully.", "dateTimeFromNow",
				q{`1000 * (agentgateway_config_last_reload_success_timestamp_seconds` + watching + `)`, "{{instance}}"}).
				Span(6),
			stat("Scrape deadline", "Time budget of the last scrape: Prometheus' scrape timeout minus --scrape.timeout-offset.", "s",
				q{`agentgateway_scrape_deadline_seconds` + watching, "{{instance}}"}).
				Span(6),
			stat("Exporter version", "Version of agentgateway_exporter on each instance.", "none",
				q{`agentgateway_exporter_build_info` + watching, "{{version}} ({{goversion}})"}).
				TextMode(common.BigValueTextModeName).GraphMode(common.BigValueGraphModeNone).Span(6),
			timeseries("Scrape duration vs deadline", "Time the queries to each gateway took in a scrape, against the budget the exporter had; and the whole scrape as Prometheus saw it. Queries still running at the deadline count as timeouts.", "s",
				q{`agentgateway_gateway_scrape_duration_seconds{` + gw + `}`, "{{gateway}} queries"},
				q{`max by (instance) (agentgateway_scrape_deadline_seconds` + watching + `)`, "{{instance}} deadline"},
				q{`max by (instance) (scrape_duration_seconds` + watching + `)`, "{{instance}} whole scrape"}),
			stacked(timeseries("Query errors by reason", "Failed callinfo queries per second, by reason and retcode.", "suffix: errors/s",
				q{`sum by (reason, retcode) (rate(agentgateway_agent_query_errors_total{` + agent + `}[$__rate_interval]))`, "{{reason}} {{retcode}}"})).
				NoValue(noFailures),
			timeseries("Query duration", "Slowest and average callinfo query per gateway in each scrape.", "s",
				q{`max by (gateway) (agentgateway_agent_query_duration_seconds{` + agent + `})`, "{{gateway}} max"},
				q{`avg by (gateway) (agentgateway_agent_query_duration_seconds{` + agent + `})`, "{{gateway}} avg"}),
			timeseries("Series per scrape", "Samples the exporter exposes; grows with agents, skills and leave reasons.", "none",
				q{`max by (instance) (scrape_samples_scraped` + watching + `)`, "{{instance}}"}),
		}},
	}
}

// guidAge shows how old the agents' Guids are against the gateway's guid_ttl.
// The freshest Guid crossing guid_ttl is what AgentGatewayGuidSupplyStale
// watches: the whole supply stopped. The oldest alone crossing it is one
// agent whose Guid no longer arrives, such as one who went home.
func guidAge() *chart.PanelBuilder {
	return timeseries("Guid age", "Seconds since each agent's Guid was last supplied (pushed, read from a file or taken from a Set-GUID header), oldest and freshest per gateway, against the gateway's guid_ttl: a Guid older than that is not sent.", "s",
		q{`max by (gateway) (agentgateway_agent_guid_age_seconds{` + gw + `})`, "{{gateway}} oldest Guid"},
		q{`min by (gateway) (agentgateway_agent_guid_age_seconds{` + gw + `})`, "{{gateway}} freshest Guid"},
		q{`max by (gateway) (agentgateway_gateway_guid_ttl_seconds{` + gw + `})`, "{{gateway}} guid_ttl"})
}

// liveCalls is the table of calls in progress, one line per agent, longest
// talk first. Each query keeps only agents in a call and only the labels to
// show; the merge joins their rows on the labels they share (gateway and
// agent_id), which is why the metric name, job and instance are aggregated
// away.
func liveCalls() *table.PanelBuilder {
	inCall := ` and on (gateway, agent_id) (agentgateway_agent_in_call == 1)`
	return tableOf("Calls in progress per agent",
		"Agents with a call now: talk and queue wait so far (the running phase is measured against the exporter's clock), skill, media type and call type. Sorted by talk time.", "s",
		q{`max by (gateway, agent_id) (agentgateway_call_talk_seconds{` + agent + `}` + inCall + `)`, ""},
		q{`max by (gateway, agent_id) (agentgateway_call_wait_seconds{` + agent + `}` + inCall + `)`, ""},
		q{`max by (gateway, agent_id, skill, skill_id, media_type, call_feature) (agentgateway_call_info{` + agent + `}` + inCall + `)`, ""},
		q{`max by (gateway, agent_id, state) (agentgateway_agent_state{` + agent + `} == 1` + inCall + `)`, ""},
	).Transformations([]dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		// Only the info and state series bring labels worth showing;
		// their values (always 1) are dropped.
		{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true, "Value #C": true, "Value #D": true},
			"indexByName":   map[string]any{"gateway": 0, "agent_id": 1, "state": 2, "Value #A": 3, "Value #B": 4, "skill": 5, "skill_id": 6, "media_type": 7, "call_feature": 8},
			"renameByName":  map[string]any{"gateway": "Gateway", "agent_id": "Agent", "state": "State", "Value #A": "Talk", "Value #B": "Wait", "skill": "Skill", "skill_id": "Skill id", "media_type": "Media type", "call_feature": "Call type"},
		}},
		{Id: "sortBy", Options: map[string]any{"fields": map[string]any{}, "sort": []any{map[string]any{"field": "Talk", "desc": true}}}},
	})
}
