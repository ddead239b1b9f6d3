package collector

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// family is one per-agent metric family. Its samples are produced once per
// agent and scrape by the function in agentFamilies, and then either sent
// as const metrics through a registry or written straight out as text.
type family struct {
	name string // fully qualified
	help string
	typ  prometheus.ValueType
	// labels are in the order of the Desc: gateway, agent_id, extra...
	labels []string
	desc   *prometheus.Desc
	// byName lists positions in labels in the order of the label names,
	// which is the order of the exposition formats.
	byName []int
	// header is the family's HELP and TYPE lines of the text format.
	header string
}

func newFamily(name string, typ prometheus.ValueType, help string, labels []string, extra ...string) *family {
	f := &family{
		name:   prometheus.BuildFQName(namespace, "", name),
		help:   help,
		typ:    typ,
		labels: append(append([]string{}, labels...), extra...),
	}
	f.desc = prometheus.NewDesc(f.name, help, f.labels, nil)
	f.byName = make([]int, len(f.labels))
	for i := range f.byName {
		f.byName[i] = i
	}
	slices.SortFunc(f.byName, func(a, b int) int { return strings.Compare(f.labels[a], f.labels[b]) })
	kind := "gauge"
	if typ == prometheus.CounterValue {
		kind = "counter"
	}
	f.header = "# HELP " + f.name + " " + helpEscaper.Replace(help) + "\n# TYPE " + f.name + " " + kind + "\n"
	return f
}

// agentFamily pairs a family with the function producing its samples.
type agentFamily struct {
	*family
	samples func(v *agentView, now time.Time, out *sampleBuf)
}

// agentFamilies are every per-agent family, sorted by name as the
// exposition formats want them.
var agentFamilies = sortedFamilies([]agentFamily{
	{agentUpFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		out.add(boolValue(v.obs.err == nil))
	}},
	{queryDurationFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		out.add(v.obs.duration.Seconds())
	}},
	{agentStateFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		states := statesByName
		if v.gatewayStates {
			states = allStatesByName
		}
		current := v.obs.state()
		for _, state := range states {
			out.add(boolValue(state == current), state)
		}
	}},
	{queryFailedFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		if v.obs.err != nil {
			out.add(1, string(v.obs.err.Reason), v.obs.retcode())
		}
	}},
	{inCallFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		if v.obs.err == nil {
			call := v.obs.call()
			out.add(boolValue(call != nil && !call.Ended()))
		}
	}},
	{logonFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		if call := v.obs.call(); call != nil && call.LogonTimes.Valid() {
			out.add(float64(call.LogonTimes.Value()))
		}
	}},
	{callWaitFamily, phaseSamples(waitSeconds)},
	{callTalkFamily, phaseSamples(talkSeconds)},
	{callMediaTypeFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		if call := v.obs.call(); call != nil && call.MediaType.Valid() {
			out.add(float64(call.MediaType.Value()))
		}
	}},
	{callStartFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		call := v.obs.call()
		if call == nil {
			return
		}
		if seconds, ok := startSeconds(call); ok {
			out.add(seconds)
		}
	}},
	{callInfoFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		if v.obs.call() != nil {
			l := v.obs.labels
			out.add(1, l.callFeature, l.mediaType, l.skill, l.skillID)
		}
	}},
	{guidAgeFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		if v.hasGUID {
			out.add(v.guidAge)
		}
	}},
	{queryErrorsFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		v.state.errorSamples(out)
	}},
	{leaveReasonFamily, func(v *agentView, _ time.Time, out *sampleBuf) {
		v.state.leaveSamples(out)
	}},
})

// phaseSamples samples a phase of the agent's call, measured by seconds.
func phaseSamples(seconds func(*gateway.CallInfo, time.Time) (float64, bool)) func(*agentView, time.Time, *sampleBuf) {
	return func(v *agentView, now time.Time, out *sampleBuf) {
		if call := v.obs.call(); call != nil {
			if s, ok := seconds(call, now); ok {
				out.add(s)
			}
		}
	}
}

// statesByName are agentStates in the order of the exposition.
var statesByName = slices.Sorted(slices.Values(agentStates))

func sortedFamilies(families []agentFamily) []agentFamily {
	slices.SortFunc(families, func(a, b agentFamily) int { return strings.Compare(a.name, b.name) })
	return families
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// agentView is one agent as one scrape saw it: its observation, and its
// state for the counters, which are read as they stand when written.
type agentView struct {
	gateway, id string
	obs         *observation
	state       *agentState
	// guidAge is the age of the agent's Guid at the scrape, if it has one.
	guidAge float64
	hasGUID bool
	// gatewayStates lists the gateway's agent states too (agent_state on).
	gatewayStates bool
}

// viewRef is one agent of a scrape, by the positions of its gateway and of
// the agent in it. A scrape's agents are listed as these, eight bytes each,
// and each agentView is built when it is written: a list of the views
// themselves would hold most of a megabyte more at ten thousand agents,
// at the moment the scrape's memory peaks.
type viewRef struct{ gw, agent int32 }

// refs lists every agent of the scrape; sorted by agent id and gateway,
// the order of the exposition, when asked.
func (r *scrapeResult) refs(sorted bool) []viewRef {
	n := 0
	for i := range r.results {
		n += len(r.results[i].agents)
	}
	refs := make([]viewRef, 0, n)
	for i := range r.gateways {
		for j := range r.results[i].agents {
			refs = append(refs, viewRef{int32(i), int32(j)})
		}
	}
	// A gateway's agents are sorted already; only several need merging.
	if sorted && len(r.gateways) > 1 {
		slices.SortFunc(refs, func(a, b viewRef) int {
			if c := strings.Compare(r.id(a), r.id(b)); c != 0 {
				return c
			}
			return strings.Compare(r.gateways[a.gw].name, r.gateways[b.gw].name)
		})
	}
	return refs
}

func (r *scrapeResult) id(ref viewRef) string { return r.results[ref.gw].agents[ref.agent].id }

// view is the agent at ref as this scrape saw it.
func (r *scrapeResult) view(ref viewRef) agentView {
	gw, res := r.gateways[ref.gw], &r.results[ref.gw]
	a := res.agents[ref.agent]
	view := agentView{gateway: gw.name, id: a.id, obs: res.observations[ref.agent], state: a.state,
		gatewayStates: gw.cfg.AgentState}
	if at := res.guidTimes[ref.agent]; at != 0 {
		view.guidAge, view.hasGUID = max(0, float64(r.guidNow.UnixNano()-at)/1e9), true
	}
	return view
}

// maxExtraLabels is the most labels a per-agent family has besides gateway
// and agent_id (call_info's four).
const maxExtraLabels = 4

// sample is one value of a per-agent family for one agent.
type sample struct {
	view  *agentView
	value float64
	extra [maxExtraLabels]string
}

// sampleBuf collects the samples of one family for one agent, or for the
// agents that share an id across gateways.
type sampleBuf struct {
	view    *agentView
	samples []sample
}

func (b *sampleBuf) reset(view *agentView) {
	b.view = view
	b.samples = b.samples[:0]
}

func (b *sampleBuf) add(value float64, extra ...string) {
	s := sample{view: b.view, value: value}
	copy(s.extra[:], extra)
	b.samples = append(b.samples, s)
}
