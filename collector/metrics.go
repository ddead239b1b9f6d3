package collector

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "agentgateway"

var (
	agentLabels   = []string{"gateway", "agent_id"}
	gatewayLabels = []string{"gateway"}
)

func newDesc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// Descriptions are immutable; the values behind them are built at collect
// time from each scrape's answers and the per-agent state.
var (
	agentUpFamily = newFamily("agent_up", prometheus.GaugeValue,
		"1 if this scrape's query for the agent returned retcode 0, else 0.", agentLabels)
	queryDurationFamily = newFamily("agent_query_duration_seconds", prometheus.GaugeValue,
		"Time this scrape's query for the agent took, including waiting for a free connection slot.", agentLabels)
	queryErrorsFamily = newFamily("agent_query_errors_total", prometheus.CounterValue,
		"Failed queries by reason (timeout, transport, http, decode, retcode, no_guid) and gateway retcode.", agentLabels, "reason", "retcode")
	queryFailedFamily = newFamily("agent_query_failed", prometheus.GaugeValue,
		"1 while this scrape's query for the agent failed, labelled with why; absent when it succeeded.", agentLabels, "reason", "retcode")
	agentStateFamily = newFamily("agent_state", prometheus.GaugeValue,
		"The agent's call state as seen by this scrape: 1 for the current state, 0 for the others.", agentLabels, "state")
	inCallFamily = newFamily("agent_in_call", prometheus.GaugeValue,
		"1 while the agent has a call in progress, 0 otherwise; absent when the query failed.", agentLabels)
	logonFamily = newFamily("agent_logon_seconds", prometheus.GaugeValue,
		"The logontimes field of the returned call, in seconds.", agentLabels)
	callWaitFamily = newFamily("call_wait_seconds", prometheus.GaugeValue,
		"How long the customer of the returned call waited in the queue; grows while still waiting.", agentLabels)
	callTalkFamily = newFamily("call_talk_seconds", prometheus.GaugeValue,
		"Talk time of the returned call; grows while the call is in progress.", agentLabels)
	callMediaTypeFamily = newFamily("call_media_type", prometheus.GaugeValue,
		"Media type code of the returned call (5 voice, 1 chat, 19 video, ...).", agentLabels)
	callStartFamily = newFamily("call_start_timestamp_seconds", prometheus.GaugeValue,
		"When the returned call reached the agent, as a Unix timestamp.", agentLabels)
	callInfoFamily = newFamily("call_info", prometheus.GaugeValue,
		"Type, media and skill of the returned call; always 1.", agentLabels, "call_feature", "media_type", "skill", "skill_id")
	leaveReasonFamily = newFamily("call_leave_reason_total", prometheus.CounterValue,
		"Ended calls by leave reason code, counted once per call; reason is \"unknown\" when the gateway gave none and \"unobserved\" when the call vanished without its end being seen.",
		agentLabels, "reason", "reason_desc")

	guidAgeFamily = newFamily("agent_guid_age_seconds", prometheus.GaugeValue,
		"Seconds since the agent's Guid was last supplied or changed; absent while it has none.", agentLabels)

	gatewayUpDesc = newDesc("gateway_up",
		"1 if at least one query to the gateway this scrape got a decodable answer, else 0; absent when no agent had a usable Guid, so nothing was asked.", gatewayLabels)
	gatewayGUIDTTLDesc = newDesc("gateway_guid_ttl_seconds",
		"The gateway's guid_ttl: a Guid older than this is not sent. Absent when no guid_ttl is set.", gatewayLabels)
	guidUpdatesDesc = newDesc("guid_updates_total",
		"Guids supplied for the gateway's agents, by source (push, file, dir, header) and result (accepted, rejected).", []string{"gateway", "source", "result"})
	gatewayScrapeDurationDesc = newDesc("gateway_scrape_duration_seconds",
		"Time this scrape spent querying all selected agents of the gateway.", gatewayLabels)
	gatewayAgentsDesc = newDesc("gateway_agents",
		"Agents of the gateway queried by this scrape.", gatewayLabels)

	labelValuesFoldedDesc = newDesc("label_values_folded_total",
		"Label values from the gateway's answers replaced by \"other\": outside their documented form, or beyond the distinct values kept per label and gateway.",
		[]string{"gateway", "label"})

	scrapeDeadlineDesc = newDesc("scrape_deadline_seconds",
		"Time budget of this scrape: Prometheus' scrape timeout minus the configured offset.", nil)
)

// Agent states of agentgateway_agent_state.
const (
	stateIdle      = "idle"
	stateRinging   = "ringing"
	stateTalking   = "talking"
	stateSignedOut = "signed_out"
	stateError     = "error"
	// stateNoGUID: not queried, for want of a usable Guid. Not signed_out:
	// the agent may well be signed in while its Guid fails to arrive.
	stateNoGUID = "no_guid"
)

var agentStates = []string{stateIdle, stateRinging, stateTalking, stateSignedOut, stateError, stateNoGUID}

// histogramBuckets put an edge on every common service-level threshold.
var histogramBuckets = []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600}

// histogramSets keeps one set of call histograms per way of slicing the
// gateway: an ended call is observed in the set of the scrape that saw it
// end, and a scrape emits only its own set, so shards scraped as separate
// targets never report the same observation twice.
type histogramSets struct {
	gateway string
	native  bool

	mu   sync.Mutex
	sets map[selection]*callHistograms
}

func (h *histogramSets) forSelection(sel selection) *callHistograms {
	key := selection{Shard: sel.Shard, Shards: sel.Shards}
	if key.Shards <= 1 {
		key = selection{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sets == nil {
		h.sets = map[selection]*callHistograms{}
	}
	set := h.sets[key]
	if set == nil {
		set = newCallHistograms(h.gateway, h.native)
		h.sets[key] = set
	}
	return set
}

// callHistograms are real histograms, observed once per ended call and kept
// across scrapes and reloads for as long as their gateway is configured.
type callHistograms struct {
	wait, talk, ring *prometheus.HistogramVec
}

func newCallHistograms(gatewayName string, native bool) *callHistograms {
	opts := func(name, help string) prometheus.HistogramOpts {
		o := prometheus.HistogramOpts{
			Namespace:   namespace,
			Name:        name,
			Help:        help,
			Buckets:     histogramBuckets,
			ConstLabels: prometheus.Labels{"gateway": gatewayName},
		}
		if native {
			o.NativeHistogramBucketFactor = 1.1
			o.NativeHistogramMaxBucketNumber = 160
		}
		return o
	}
	labels := []string{"skill", "media_type"}
	return &callHistograms{
		wait: prometheus.NewHistogramVec(opts("call_wait_duration_seconds",
			"Queue wait of ended calls, observed once per call."), labels),
		talk: prometheus.NewHistogramVec(opts("call_talk_duration_seconds",
			"Talk time of ended calls that were answered, observed once per call."), labels),
		ring: prometheus.NewHistogramVec(opts("call_ring_duration_seconds",
			"Answer (ringing) phase of ended calls, observed once per call."), labels),
	}
}

func (h *callHistograms) collect(ch chan<- prometheus.Metric) {
	h.wait.Collect(ch)
	h.talk.Collect(ch)
	h.ring.Collect(ch)
}
