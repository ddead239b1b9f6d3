//go:build ignore

// Command generate writes the Grafana dashboard for agentgateway_exporter:
//
//	go run grafana/generate.go > grafana/agentgateway.json
//
// The dashboard is generated so that ids and grid positions stay consistent
// when panels are added or moved; edit this file, not the JSON.
package main

import (
	"encoding/json"
	"fmt"
	"os"
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

var ds = map[string]string{"type": "prometheus", "uid": "${datasource}"}

type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

type target struct {
	Datasource   map[string]string `json:"datasource"`
	Expr         string            `json:"expr"`
	LegendFormat string            `json:"legendFormat,omitempty"`
	Instant      bool              `json:"instant,omitempty"`
	Range        bool              `json:"range"`
	Format       string            `json:"format,omitempty"`
	RefID        string            `json:"refId"`
}

type fieldConfig struct {
	Defaults  map[string]any `json:"defaults"`
	Overrides []any          `json:"overrides"`
}

type panel struct {
	ID              int               `json:"id"`
	Type            string            `json:"type"`
	Title           string            `json:"title"`
	Description     string            `json:"description,omitempty"`
	GridPos         gridPos           `json:"gridPos"`
	Datasource      map[string]string `json:"datasource,omitempty"`
	Targets         []target          `json:"targets,omitempty"`
	FieldConfig     *fieldConfig      `json:"fieldConfig,omitempty"`
	Options         map[string]any    `json:"options,omitempty"`
	Transformations []any             `json:"transformations,omitempty"`
	// Rows only.
	Collapsed *bool `json:"collapsed,omitempty"`
	Panels    []any `json:"panels,omitempty"`

	width int // grid columns, when not the type's usual width
}

// q is one query; legend "" lets Grafana name the series.
type q struct{ expr, legend string }

// How a panel's queries run: over the time range, or once at its end (as
// series, or as a table with one column per label).
type mode int

const (
	rangeQuery mode = iota
	instantQuery
	tableQuery
)

func targets(m mode, qs []q) []target {
	out := make([]target, len(qs))
	for i, x := range qs {
		t := target{Datasource: ds, Expr: x.expr, LegendFormat: x.legend, RefID: string(rune('A' + i))}
		switch m {
		case rangeQuery:
			t.Range = true
		case instantQuery:
			t.Instant, t.Format = true, "time_series"
		case tableQuery:
			t.Instant, t.Format = true, "table"
		}
		out[i] = t
	}
	return out
}

func defaults(unit string, extra map[string]any) map[string]any {
	d := map[string]any{"unit": unit}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// timeseries is a line chart; stack draws the series on top of each other
// (for parts of a whole, such as agents by state).
func timeseries(title, desc, unit string, stack bool, qs ...q) panel {
	custom := map[string]any{"fillOpacity": 10, "lineWidth": 1, "showPoints": "never"}
	if stack {
		custom["stacking"] = map[string]any{"mode": "normal", "group": "A"}
		custom["fillOpacity"] = 60
	}
	return panel{
		Type: "timeseries", Title: title, Description: desc, Datasource: ds,
		Targets:     targets(rangeQuery, qs),
		FieldConfig: &fieldConfig{Defaults: defaults(unit, map[string]any{"min": 0, "custom": custom}), Overrides: []any{}},
		Options: map[string]any{
			"legend":  map[string]any{"displayMode": "table", "placement": "bottom", "showLegend": true, "calcs": []string{"lastNotNull", "max"}},
			"tooltip": map[string]any{"mode": "multi", "sort": "desc"},
		},
	}
}

// stat shows the last value; thresholds colour it (nil: one neutral colour).
func stat(title, desc, unit string, thresholds []any, mappings []any, qs ...q) panel {
	if thresholds == nil {
		thresholds = []any{step("blue", nil)}
	}
	extra := map[string]any{"thresholds": map[string]any{"mode": "absolute", "steps": thresholds}, "color": map[string]any{"mode": "thresholds"}}
	if mappings != nil {
		extra["mappings"] = mappings
	}
	return panel{
		Type: "stat", Title: title, Description: desc, Datasource: ds,
		Targets:     targets(rangeQuery, qs),
		FieldConfig: &fieldConfig{Defaults: defaults(unit, extra), Overrides: []any{}},
		Options: map[string]any{
			"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
			"colorMode":     "value", "graphMode": "area", "justifyMode": "auto", "orientation": "auto", "textMode": "auto",
		},
	}
}

// pie shows the parts of a whole at the end of the time range.
func pie(title, desc, unit string, qs ...q) panel {
	return panel{
		Type: "piechart", Title: title, Description: desc, Datasource: ds,
		Targets:     targets(instantQuery, qs),
		FieldConfig: &fieldConfig{Defaults: defaults(unit, nil), Overrides: []any{}},
		Options: map[string]any{
			"pieType":       "donut",
			"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
			"legend":        map[string]any{"displayMode": "table", "placement": "right", "showLegend": true, "values": []string{"value", "percent"}},
			"tooltip":       map[string]any{"mode": "single", "sort": "none"},
		},
	}
}

// statW gives a stat panel another width than the usual 4 columns.
func statW(width int, p panel) panel {
	p.width = width
	return p
}

// versionStat names the exporter version(s) running.
func versionStat() panel {
	p := stat("Exporter version", "Version of agentgateway_exporter on each instance.", "none", nil, nil,
		q{`agentgateway_exporter_build_info` + watching, "{{version}} ({{goversion}})"})
	p.Options["textMode"] = "name"
	p.Options["graphMode"] = "none"
	return p
}

func step(color string, value any) map[string]any {
	return map[string]any{"color": color, "value": value}
}

func valueText(value, text, color string) map[string]any {
	return map[string]any{"type": "value", "options": map[string]any{value: map[string]any{"text": text, "color": color}}}
}

func row(title string) panel {
	f := false
	return panel{Type: "row", Title: title, Collapsed: &f}
}

// liveCalls is the table of calls in progress, one line per agent, longest
// talk first. Each query keeps only agents in a call and only the labels to
// show; the merge joins their rows on the labels they share (gateway and
// agent_id), which is why the metric name, job and instance are aggregated
// away.
func liveCalls() panel {
	inCall := ` and on (gateway, agent_id) (agentgateway_agent_in_call == 1)`
	return panel{
		Type: "table", Title: "Calls in progress per agent",
		Description: "Agents with a call now: talk and queue wait so far (the running phase is measured against the exporter's clock), skill, media type and call type. Sorted by talk time.",
		Datasource:  ds,
		Targets: targets(tableQuery, []q{
			{`max by (gateway, agent_id) (agentgateway_call_talk_seconds{` + agent + `}` + inCall + `)`, ""},
			{`max by (gateway, agent_id) (agentgateway_call_wait_seconds{` + agent + `}` + inCall + `)`, ""},
			{`max by (gateway, agent_id, skill, skill_id, media_type, call_feature) (agentgateway_call_info{` + agent + `}` + inCall + `)`, ""},
			{`max by (gateway, agent_id, state) (agentgateway_agent_state{` + agent + `} == 1` + inCall + `)`, ""},
		}),
		FieldConfig: &fieldConfig{
			Defaults:  defaults("s", map[string]any{"custom": map[string]any{"align": "auto"}}),
			Overrides: []any{},
		},
		Options: map[string]any{"showHeader": true, "footer": map[string]any{"show": false}},
		Transformations: []any{
			map[string]any{"id": "merge", "options": map[string]any{}},
			// Only the info and state series bring labels worth showing;
			// their values (always 1) are dropped.
			map[string]any{"id": "organize", "options": map[string]any{
				"excludeByName": map[string]any{"Time": true, "Value #C": true, "Value #D": true},
				"indexByName":   map[string]any{"gateway": 0, "agent_id": 1, "state": 2, "Value #A": 3, "Value #B": 4, "skill": 5, "skill_id": 6, "media_type": 7, "call_feature": 8},
				"renameByName":  map[string]any{"gateway": "Gateway", "agent_id": "Agent", "state": "State", "Value #A": "Talk", "Value #B": "Wait", "skill": "Skill", "skill_id": "Skill id", "media_type": "Media type", "call_feature": "Call type"},
			}},
			map[string]any{"id": "sortBy", "options": map[string]any{"fields": map[string]any{}, "sort": []any{map[string]any{"field": "Talk", "desc": true}}}},
		},
	}
}

func panels() []panel {
	upDown := []any{valueText("1", "UP", "green"), valueText("0", "DOWN", "red")}
	okFailed := []any{valueText("1", "OK", "green"), valueText("0", "FAILED", "red")}
	redIfAny := []any{step("green", nil), step("red", 1)}
	orangeIfAny := []any{step("green", nil), step("orange", 1)}
	// 80% of calls within 20 s is the usual target.
	slSteps := []any{step("red", nil), step("orange", 0.7), step("green", 0.8)}

	return []panel{
		row("Agents"),
		stat("Agents configured", "Agents listed in agents.yml for the selected gateways.", "none", nil, nil,
			q{`sum(agentgateway_gateway_agents{` + gw + `})`, ""}),
		stat("Agents answering", "Agents whose last query returned retcode 0.", "none", nil, nil,
			q{`sum(agentgateway_agent_up{` + agent + `})`, ""}),
		stat("Agents signed out", "Agents the gateway reports as not signed in, or whose Guid it no longer accepts (100-006, 100-008, 000-003, 105-00x).", "none", orangeIfAny, nil,
			q{`sum(agentgateway_agent_state{` + agent + `, state="signed_out"})`, ""}),
		stat("Agents failing", "Agents whose last query failed for another reason: timeout, transport, HTTP, undecodable answer or an unexpected retcode.", "none", redIfAny, nil,
			q{`sum(agentgateway_agent_state{` + agent + `, state="error"})`, ""}),
		stat("Agents in call", "Agents with a call in progress now (ringing or talking).", "none", nil, nil,
			q{`sum(agentgateway_agent_in_call{` + agent + `})`, ""}),
		stat("Gateways", "Whether at least one query to the gateway got a decodable answer in the last scrape.", "none", []any{step("red", nil), step("green", 1)}, upDown,
			q{`agentgateway_gateway_up{` + gw + `}`, "{{gateway}}"}),
		timeseries("Agents by state", "Every agent is in exactly one state; \"error\" means its query failed for a reason other than a lost session.", "none", true,
			q{`sum by (state) (agentgateway_agent_state{` + agent + `})`, "{{state}}"}),
		timeseries("Failing queries by retcode", "Agents whose last query failed, by failure reason and gateway retcode (empty unless the reason is \"retcode\").", "none", true,
			q{`count by (reason, retcode) (agentgateway_agent_query_failed{` + agent + `})`, "{{reason}} {{retcode}}"}),

		row("Calls now"),
		liveCalls(),
		timeseries("Agents in call", "Agents with a call in progress, per gateway.", "none", false,
			q{`sum by (gateway) (agentgateway_agent_in_call{` + agent + `})`, "{{gateway}}"}),
		pie("Calls in progress by media type", "Media type code of the current calls (5 voice, 19 video, 1 and 51 chat, 53 social media; see the interface document).", "none",
			q{`count by (media_type) (agentgateway_call_info{` + agent + `} and on (gateway, agent_id) (agentgateway_agent_in_call == 1))`, "{{media_type}}"}),
		pie("Ended calls by media type", "Calls that ended in the dashboard's time range, by media type code.", "none",
			q{`sum by (media_type) (increase(agentgateway_call_ring_duration_seconds_count{` + gw + `}[$__range]))`, "{{media_type}}"}),

		row("Ended calls"),
		timeseries("Calls ended per minute by leave reason", "Leave reason of each ended call: 15/88 customer released, 16 agent released, 17 transferred, 26 customer did not answer, 50 agent rejected, 89 customer hung up before answer; \"unknown\" = the gateway gave no reason, \"unobserved\" = the call vanished between two scrapes.", "suffix: calls/min", true,
			q{`sum by (reason, reason_desc) (rate(agentgateway_call_leave_reason_total{` + agent + `}[$__rate_interval])) * 60`, "{{reason}} {{reason_desc}}"}),
		timeseries("Ring time (p90)", "90th percentile of the time calls rang at an agent before being answered, rejected or dropped.", "s", false,
			q{`histogram_quantile(0.9, sum by (gateway, skill, le) (rate(agentgateway_call_ring_duration_seconds_bucket{` + gw + `}[$__rate_interval])))`, "{{gateway}} {{skill}}"}),

		row("Contact-center KPIs (15-minute windows)"),
		stat("Calls completed", "Ended calls per minute over the last minute, all reasons.", "suffix: calls/min", nil, nil,
			q{`gateway:agentgateway_calls_completed:rate1m{` + gw + `} * 60`, "{{gateway}}"}),
		stat("Service level (wait < 20 s)", "Share of the calls reaching an agent that waited less than 20 s in the queue. Calls abandoned in the queue never reach an agent and are not counted.", "percentunit", slSteps, nil,
			q{`gateway:agentgateway_service_level_20s:ratio_rate15m{` + gw + `}`, "{{gateway}}"}),
		stat("Average speed of answer", "Mean queue wait of the calls that reached an agent.", "s", nil, nil,
			q{`gateway:agentgateway_call_wait_duration_seconds:mean15m{` + gw + `}`, "{{gateway}}"}),
		stat("Abandoned", "Share of ended calls the customer dropped: leave reasons 26 (did not answer) and 89 (hung up before answer).", "percentunit", nil, nil,
			q{`gateway:agentgateway_calls_abandoned:ratio_rate15m{` + gw + `}`, "{{gateway}}"}),
		stat("Rejected by agent", "Share of ended calls with leave reason 50.", "percentunit", []any{step("green", nil), step("orange", 0.05), step("red", 0.1)}, nil,
			q{`gateway:agentgateway_calls_rejected:ratio_rate15m{` + gw + `}`, "{{gateway}}"}),
		stat("Transferred", "Share of ended calls with leave reason 17.", "percentunit", nil, nil,
			q{`gateway:agentgateway_calls_transferred:ratio_rate15m{` + gw + `}`, "{{gateway}}"}),
		timeseries("Calls completed per minute", "Ended calls per minute, by skill (calls that rang at an agent) and per gateway (every ended call).", "suffix: calls/min", false,
			q{`gateway_skill:agentgateway_calls_completed:rate1m{` + gw + `} * 60`, "{{gateway}} {{skill}}"},
			q{`gateway:agentgateway_calls_completed:rate1m{` + gw + `} * 60`, "{{gateway}} all"}),
		timeseries("Service level by skill (wait < 20 s)", "Share of calls answered within 20 s, by skill.", "percentunit", false,
			q{`gateway_skill:agentgateway_service_level_20s:ratio_rate15m{` + gw + `}`, "{{gateway}} {{skill}}"}),
		timeseries("Queue wait: average (ASA) and p90", "Average speed of answer and 90th percentile of the queue wait, by skill.", "s", false,
			q{`gateway_skill:agentgateway_call_wait_duration_seconds:mean15m{` + gw + `}`, "{{gateway}} {{skill}} avg"},
			q{`gateway_skill:agentgateway_call_wait_duration_seconds:p90_rate15m{` + gw + `}`, "{{gateway}} {{skill}} p90"}),
		timeseries("Talk time: average and p90", "Average talk time and 90th percentile, by skill.", "s", false,
			q{`gateway_skill:agentgateway_call_talk_duration_seconds:mean15m{` + gw + `}`, "{{gateway}} {{skill}} avg"},
			q{`gateway_skill:agentgateway_call_talk_duration_seconds:p90_rate15m{` + gw + `}`, "{{gateway}} {{skill}} p90"}),
		timeseries("Call outcomes", "Share of ended calls abandoned by the customer (leave reasons 26 and 89), rejected by the agent (50) and transferred (17).", "percentunit", false,
			q{`gateway:agentgateway_calls_abandoned:ratio_rate15m{` + gw + `}`, "{{gateway}} abandoned"},
			q{`gateway:agentgateway_calls_rejected:ratio_rate15m{` + gw + `}`, "{{gateway}} rejected by agent"},
			q{`gateway:agentgateway_calls_transferred:ratio_rate15m{` + gw + `}`, "{{gateway}} transferred"}),
		timeseries("Calls without a leave reason", "Share of ended calls for which the gateway gave no reason (unknown), or whose end the exporter did not see (unobserved: the agent finished more than one call between two scrapes, or the exporter lost track). The outcome shares are only as good as these are low.", "percentunit", false,
			q{`gateway:agentgateway_calls_leave_reason_unknown:ratio_rate15m{` + gw + `}`, "{{gateway}} unknown"},
			q{`gateway:agentgateway_calls_unobserved:ratio_rate15m{` + gw + `}`, "{{gateway}} unobserved"}),
		timeseries("Agents per gateway", "Agents answering, in call, signed out and failing, per gateway.", "none", false,
			q{`gateway:agentgateway_agents_up:sum{` + gw + `}`, "{{gateway}} answering"},
			q{`gateway:agentgateway_agents_in_call:sum{` + gw + `}`, "{{gateway}} in call"},
			q{`gateway:agentgateway_agents_signed_out:sum{` + gw + `}`, "{{gateway}} signed out"},
			q{`gateway:agentgateway_agents_failing:count{` + gw + `}`, "{{gateway}} failing"}),
		timeseries("Occupancy (estimate)", "Time the answering agents spent in calls, sampled at every scrape: a call shorter than the scrape interval may be missed entirely.", "percentunit", false,
			q{`sum by (gateway) (avg_over_time(agentgateway_agent_in_call{` + agent + `}[$__rate_interval])) / sum by (gateway) (avg_over_time(agentgateway_agent_up{` + agent + `}[$__rate_interval]))`, "{{gateway}}"}),

		row("Exporter health"),
		statW(6, stat("Last configuration reload", "Whether the last reload of agents.yml succeeded.", "none", []any{step("red", nil), step("green", 1)}, okFailed,
			q{`agentgateway_config_last_reload_successful` + watching, "{{instance}}"})),
		statW(6, stat("Configuration loaded", "When agents.yml was last loaded successfully.", "dateTimeFromNow", nil, nil,
			q{`1000 * (agentgateway_config_last_reload_success_timestamp_seconds` + watching + `)`, "{{instance}}"})),
		statW(6, stat("Scrape deadline", "Time budget of the last scrape: Prometheus' scrape timeout minus --scrape.timeout-offset.", "s", nil, nil,
			q{`agentgateway_scrape_deadline_seconds` + watching, "{{instance}}"})),
		statW(6, versionStat()),
		timeseries("Scrape duration vs deadline", "Time the queries to each gateway took in a scrape, against the budget the exporter had; and the whole scrape as Prometheus saw it. Queries still running at the deadline count as timeouts.", "s", false,
			q{`agentgateway_gateway_scrape_duration_seconds{` + gw + `}`, "{{gateway}} queries"},
			q{`max by (instance) (agentgateway_scrape_deadline_seconds` + watching + `)`, "{{instance}} deadline"},
			q{`max by (instance) (scrape_duration_seconds` + watching + `)`, "{{instance}} whole scrape"}),
		timeseries("Query errors by reason", "Failed callinfo queries per second, by reason and retcode.", "suffix: errors/s", true,
			q{`sum by (reason, retcode) (rate(agentgateway_agent_query_errors_total{` + agent + `}[$__rate_interval]))`, "{{reason}} {{retcode}}"}),
		timeseries("Query duration", "Slowest and average callinfo query per gateway in each scrape.", "s", false,
			q{`max by (gateway) (agentgateway_agent_query_duration_seconds{` + agent + `})`, "{{gateway}} max"},
			q{`avg by (gateway) (agentgateway_agent_query_duration_seconds{` + agent + `})`, "{{gateway}} avg"}),
		timeseries("Series per scrape", "Samples the exporter exposes; grows with agents, skills and leave reasons.", "none", false,
			q{`max by (instance) (scrape_samples_scraped` + watching + `)`, "{{instance}}"}),
	}
}

// layout gives every panel an id and a place: rows span the full width,
// the other panels fill a row left to right at the given widths.
func layout(ps []panel) []panel {
	widths := map[string][2]int{ // type -> width, height
		"row": {24, 1}, "stat": {4, 4}, "timeseries": {12, 8}, "piechart": {6, 8}, "table": {24, 9},
	}
	x, y, rowH := 0, 0, 0
	for i := range ps {
		p := &ps[i]
		p.ID = i + 1
		wh := widths[p.Type]
		if p.width > 0 {
			wh[0] = p.width
		}
		if p.Type == "row" || x+wh[0] > 24 {
			x, y, rowH = 0, y+rowH, 0
		}
		p.GridPos = gridPos{H: wh[1], W: wh[0], X: x, Y: y}
		x += wh[0]
		if wh[1] > rowH {
			rowH = wh[1]
		}
	}
	return ps
}

func variable(name, label, query string) map[string]any {
	return map[string]any{
		"name": name, "label": label, "type": "query", "datasource": ds,
		"definition": query,
		"query":      map[string]any{"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
		"refresh":    2, "sort": 1, "multi": true, "includeAll": true,
		// ".+" rather than the list of every value keeps the queries short
		// on gateways with thousands of agents.
		"allValue": ".+",
		"current":  map[string]any{"selected": true, "text": []string{"All"}, "value": []string{"$__all"}},
		"options":  []any{}, "hide": 0, "regex": "", "skipUrlSync": false,
	}
}

func main() {
	dashboard := map[string]any{
		"title":       "CC-Gateway agents and calls",
		"uid":         "agentgateway",
		"description": "Agents, calls and contact-center KPIs from agentgateway_exporter (Huawei CEC CC-Gateway).",
		"tags":        []string{"agentgateway", "contact-center", "prometheus"},
		"annotations": map[string]any{"list": []any{map[string]any{
			"builtIn": 1, "datasource": map[string]string{"type": "grafana", "uid": "-- Grafana --"},
			"enable": true, "hide": true, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
		}}},
		"editable":             true,
		"fiscalYearStartMonth": 0,
		"graphTooltip":         1,
		"id":                   nil,
		"links":                []any{},
		"liveNow":              false,
		"panels":               layout(panels()),
		"refresh":              "30s",
		"schemaVersion":        39,
		"templating": map[string]any{"list": []any{
			map[string]any{
				"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
				"current": map[string]any{}, "hide": 0, "includeAll": false, "multi": false, "options": []any{},
				"refresh": 1, "regex": "", "skipUrlSync": false,
			},
			variable("gateway", "Gateway", "label_values(agentgateway_agent_up, gateway)"),
			variable("agent", "Agent", `label_values(agentgateway_agent_up{gateway=~"$gateway"}, agent_id)`),
		}},
		"time":       map[string]string{"from": "now-3h", "to": "now"},
		"timepicker": map[string]any{},
		"timezone":   "",
		"version":    1,
		"weekStart":  "",
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(dashboard); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
