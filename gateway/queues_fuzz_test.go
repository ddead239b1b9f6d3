package gateway

import (
	"errors"
	"slices"
	"testing"
)

// perObjectAlloc is what decoding one kept list entry may allocate beyond
// its share of allocBound: the decoders keep at most a fixed number of
// entries, so their cost is the body's plus a constant.
const perObjectAlloc = 512

// fuzzDecoder runs the invariants every decoder of a gateway envelope must
// keep: no panic; a failure is ErrEnvelope and returns no answer; a success
// has a retcode; allocation stays within a few times the body plus limit
// entries. check adds the interface's own invariants.
func fuzzDecoder[A retcoded](t *testing.T, body []byte, limit int, decode func([]byte) (A, error), check func(answer A, success bool)) {
	var (
		answer A
		err    error
	)
	bound := allocBound(len(body)) + uint64(limit)*perObjectAlloc
	if n := allocated(func() { answer, err = decode(body) }); n > bound {
		t.Errorf("decoding %d bytes allocated %d bytes, bound %d", len(body), n, bound)
	}
	if err != nil {
		if !errors.Is(err, ErrEnvelope) {
			t.Fatalf("failure %v is not ErrEnvelope", err)
		}
		return
	}
	retcode, _ := answer.envelope()
	if retcode == "" {
		t.Fatalf("accepted an answer without a retcode: %q", body)
	}
	check(answer, retcode == RetcodeSuccess)
}

// FuzzDecodeACDStat: entries only on success, each with a skill id, never
// more than one request may ask for. Seeds in testdata/fuzz/FuzzDecodeACDStat.
func FuzzDecodeACDStat(f *testing.F) {
	f.Add([]byte(`{"retcode":"0","result":[{"deviceNo":20011,"queueSize":"3","queueTime":42}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzDecoder(t, body, MaxSkillsPerQuery, DecodeACDStat, func(a *ACDStatAnswer, success bool) {
			if a == nil {
				t.Fatal("nil answer without an error")
			}
			if (!success && len(a.Queues) > 0) || len(a.Queues) > MaxSkillsPerQuery {
				t.Fatalf("%d queues for retcode %q", len(a.Queues), a.Retcode)
			}
			if slices.ContainsFunc(a.Queues, func(q QueueStat) bool { return !q.SkillID.Valid() }) {
				t.Fatalf("kept a queue without a skill id: %q", body)
			}
		})
	})
}

// FuzzDecodeVDNSkills: as FuzzDecodeACDStat, for the skill list.
func FuzzDecodeVDNSkills(f *testing.F) {
	f.Add([]byte(`{"retcode":"0","result":[{"id":20011,"name":"voice","mediatype":5}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzDecoder(t, body, MaxVDNSkills, DecodeVDNSkills, func(a *VDNSkillsAnswer, success bool) {
			if a == nil {
				t.Fatal("nil answer without an error")
			}
			if (!success && len(a.Skills) > 0) || len(a.Skills) > MaxVDNSkills {
				t.Fatalf("%d skills for retcode %q", len(a.Skills), a.Retcode)
			}
			if slices.ContainsFunc(a.Skills, func(s Skill) bool { return !s.ID.Valid() }) {
				t.Fatalf("kept a skill without an id: %q", body)
			}
		})
	})
}

// FuzzDecodeAgentStatus: a status only on success and with a state code;
// every name it gives is one the collector knows.
func FuzzDecodeAgentStatus(f *testing.F) {
	f.Add([]byte(`{"retcode":"0","result":{"agentState":4,"isWorking":false}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzDecoder(t, body, 1, DecodeAgentStatus, func(a *AgentStatusAnswer, success bool) {
			if a == nil {
				t.Fatal("nil answer without an error")
			}
			if a.Status == nil {
				return
			}
			if !success || !a.Status.State.Valid() {
				t.Fatalf("status %+v for retcode %q", a.Status, a.Retcode)
			}
			if name, ok := a.Status.Name(); ok && !slices.Contains(AgentStateNames, name) {
				t.Fatalf("state name %q is not in AgentStateNames", name)
			}
		})
	})
}
