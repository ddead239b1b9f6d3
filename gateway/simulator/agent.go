package simulator

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// agent holds what one agent's answers depend on besides the clock. Each agent has its own lock so
// that a load test over many agents does not serialise on one mutex.
type agent struct {
	id       string
	num      int // the agent id as a number
	requests atomic.Int64

	mu          sync.Mutex
	session     session
	retcode     string
	fault       Fault
	faultLeft   int
	manual      *manualCalls // nil while the automatic lifecycle runs
	manualCount uint64
	flow        []time.Time // the last FlowLimit admitted queries, a ring starting at flowNext
	flowNext    int
	windows     [2]cachedWindow // the windows asked for last: usually the current and the previous one
}

type manualCalls struct {
	current, previous *Call
}

type cachedWindow struct {
	number int64
	calls  []Call
	valid  bool
}

func (a *agent) takeFault() Fault {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.fault
	if f.Count > 0 {
		a.faultLeft--
		if a.faultLeft <= 0 {
			a.fault = Fault{}
		}
	}
	return f
}

// admit applies flow control: a sliding window over the admitted queries of one agent.
func (a *agent) admit(now time.Time, limit int, window time.Duration) bool {
	if limit <= 0 {
		return true
	}
	if len(a.flow) < limit {
		a.flow = append(a.flow, now)
		return true
	}
	if oldest := a.flow[a.flowNext]; now.Sub(oldest) < window {
		return false
	}
	a.flow[a.flowNext] = now
	a.flowNext = (a.flowNext + 1) % limit
	return true
}

// calls returns the agent's current and previous call at now; the caller holds a.mu.
func (a *agent) calls(now time.Time, l *lifecycle) (current, previous *Call) {
	if a.manual != nil {
		return viewAt(a.manual.current, now), viewAt(a.manual.previous, now)
	}
	w := l.windowOf(now)
	calls := a.window(l, w)
	i := sort.Search(len(calls), func(i int) bool { return calls[i].WaitBegin.After(now) }) - 1
	if i >= 0 && now.Before(calls[i].wrapUntil) {
		current = viewAt(&calls[i], now)
		i--
	}
	if i >= 0 {
		return current, viewAt(&calls[i], now)
	}
	// The previous call lies in an earlier window. Windows hold dozens of calls, so looking back a few is plenty.
	for back := int64(1); back <= 3; back++ {
		if earlier := a.window(l, w-back); len(earlier) > 0 {
			return current, viewAt(&earlier[len(earlier)-1], now)
		}
	}
	return current, nil
}

func (a *agent) window(l *lifecycle, number int64) []Call {
	for i := range a.windows {
		if a.windows[i].valid && a.windows[i].number == number {
			return a.windows[i].calls
		}
	}
	// Replace the slot farther from the window asked for: polls move forward, so that keeps the neighbour.
	slot := 0
	if a.windows[0].valid && (!a.windows[1].valid || distance(a.windows[0].number, number) < distance(a.windows[1].number, number)) {
		slot = 1
	}
	a.windows[slot] = cachedWindow{number: number, calls: l.windowCalls(a.num, number), valid: true}
	return a.windows[slot].calls
}

func distance(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

func viewAt(c *Call, now time.Time) *Call {
	if c == nil {
		return nil
	}
	v := c.at(now)
	return &v
}
