package simulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// ask sends one request of the agent with its current Guid and returns the body.
func ask(t testing.TB, s *Simulator, method, path, agentID, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Guid", s.Guid(agentID))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func acdStat(t testing.TB, s *Simulator, agentID, body string) *gateway.ACDStatAnswer {
	t.Helper()
	_, raw := ask(t, s, http.MethodPost, routeACDStat.prefix+agentID+routeACDStat.suffix, agentID, body)
	answer, err := gateway.DecodeACDStat(raw)
	if err != nil {
		t.Fatalf("queryacdstat answer %s: %v", raw, err)
	}
	return answer
}

func agentStatus(t testing.TB, s *Simulator, agentID string) *gateway.AgentStatusAnswer {
	t.Helper()
	_, raw := ask(t, s, http.MethodGet, routeAgentStatus.prefix+agentID+routeAgentStatus.suffix, agentID, "")
	answer, err := gateway.DecodeAgentStatus(raw)
	if err != nil {
		t.Fatalf("agentstatus answer %s: %v", raw, err)
	}
	return answer
}

const allSkills = `{"skills":[20011,20012,20013,20014]}`

// TestQueuesAgreeWithCallInfo walks a simulated contact centre through an hour and checks at every
// step that the three new interfaces agree with the call information of every agent: the agent's
// state with its call's phase, the queues' waiting calls with the calls queued at agents, the
// available agents with the idle ones. It also checks that every state and abandoned calls occur.
func TestQueuesAgreeWithCallInfo(t *testing.T) {
	for _, quirks := range []Quirks{{}, AllQuirks()} {
		s, clock := newTestSimulator(t, Options{Agents: 25, Quirks: quirks, NoCallResult: NoCallResultNull})
		seenStates := map[string]bool{}
		sawAbandoned := false
		for step := 0; step < 600; step++ {
			clock.Advance(6 * time.Second)
			now := clock.Now()
			idle, signedIn := 0, 0
			queuedAt := map[int64]int{}
			oldest := map[int64]time.Duration{}
			for _, id := range s.AgentIDs() {
				call := queryAgent(t, s, id, false).mustSucceed(t)
				status := agentStatus(t, s, id)
				if status.Retcode != "0" || status.Status == nil {
					t.Fatalf("agent %s: agentstatus %+v", id, status)
				}
				name, _ := status.Status.Name()
				seenStates[name] = true
				signedIn++
				_, hasCall := call.result()
				phase := Phase(0)
				if current, _ := s.Calls(id); current != nil {
					phase = current.Phase
					if phase == PhaseQueued {
						queuedAt[int64(current.SkillID)]++
						oldest[int64(current.SkillID)] = max(oldest[int64(current.SkillID)], now.Sub(current.WaitBegin))
					}
				}
				switch name {
				case gateway.StateIdle, gateway.StateRest:
					if hasCall {
						t.Fatalf("%v: agent %s is %s but callinfo shows a call", now, id, name)
					}
					if name == gateway.StateIdle {
						idle++
					}
				case gateway.StateWrapUp, gateway.StatePreRest:
					if phase != PhaseEnded {
						t.Fatalf("%v: agent %s is %s but its call is %v", now, id, name, phase)
					}
				case gateway.StateTalking:
					if !hasCall || phase == PhaseEnded || !status.Status.Working.Value {
						t.Fatalf("%v: agent %s is talking (working %+v) but its call is %v", now, id, status.Status.Working, phase)
					}
				default:
					t.Fatalf("%v: agent %s in state %q", now, id, name)
				}
			}
			stats := acdStat(t, s, s.AgentIDs()[step%25], allSkills)
			if len(stats.Queues) != 4 {
				t.Fatalf("%v: %d queues answered, want 4", now, len(stats.Queues))
			}
			for _, q := range stats.Queues {
				id := q.SkillID.Value()
				if q.AgentsSignedIn.Value() != int64(signedIn) || q.AgentsAvailable.Value() != int64(idle) {
					t.Fatalf("%v: queue %d has %d signed in and %d available, the agents say %d and %d",
						now, id, q.AgentsSignedIn.Value(), q.AgentsAvailable.Value(), signedIn, idle)
				}
				// Abandoned calls wait in the queue on top of those queued at agents.
				if q.CallsWaiting.Value() < int64(queuedAt[id]) || q.LongestWaitSeconds.Value() < int64(oldest[id].Seconds()) {
					t.Fatalf("%v: queue %d reports %d waiting (longest %ds); %d calls are queued at agents (oldest %v)",
						now, id, q.CallsWaiting.Value(), q.LongestWaitSeconds.Value(), queuedAt[id], oldest[id])
				}
				if q.CallsWaiting.Value() > int64(queuedAt[id]) {
					sawAbandoned = true
				}
				if (q.CallsWaiting.Value() == 0) != (q.LongestWaitSeconds.Value() == 0) && q.LongestWaitSeconds.Value() != 0 {
					t.Fatalf("%v: queue %d has no call waiting but a longest wait of %ds", now, id, q.LongestWaitSeconds.Value())
				}
			}
		}
		for _, name := range []string{gateway.StateIdle, gateway.StateTalking, gateway.StateWrapUp, gateway.StateRest, gateway.StatePreRest} {
			if !seenStates[name] {
				t.Errorf("quirks %+v: no agent was ever %s", quirks, name)
			}
		}
		if !sawAbandoned {
			t.Errorf("quirks %+v: no call was ever waiting to be abandoned", quirks)
		}
	}
}

func TestQueueRequests(t *testing.T) {
	s, _ := newTestSimulator(t, Options{Agents: 3})
	id := s.AgentIDs()[0]
	acdPath := routeACDStat.prefix + id + routeACDStat.suffix
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantRetcode              string
		wantQueues               []int64
	}{
		{"some queues, in the order asked", http.MethodPost, acdPath, `{"skills":[20014,20011]}`, 200, "0", []int64{20014, 20011}},
		{"ids as strings", http.MethodPost, acdPath, `{"skills":["20012"]}`, 200, "0", []int64{20012}},
		{"unknown queue left out", http.MethodPost, acdPath, `{"skills":[20011,99999]}`, 200, "0", []int64{20011}},
		{"no skills", http.MethodPost, acdPath, `{"skills":[]}`, 200, retcodeBadSkillQuery, nil},
		{"too many skills", http.MethodPost, acdPath, `{"skills":[` + strings.Repeat("1,", 100) + `1]}`, 200, retcodeBadSkillQuery, nil},
		{"not JSON", http.MethodPost, acdPath, `skills=1`, 200, retcodeBadMessage, nil},
		{"GET", http.MethodGet, acdPath, ``, http.StatusMethodNotAllowed, "", nil},
		{"agentstatus by POST", http.MethodPost, routeAgentStatus.prefix + id + routeAgentStatus.suffix, ``, http.StatusMethodNotAllowed, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := ask(t, s, tt.method, tt.path, id, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, raw)
			}
			if tt.wantStatus != http.StatusOK {
				return
			}
			answer, err := gateway.DecodeACDStat(raw)
			if err != nil || answer.Retcode != tt.wantRetcode {
				t.Fatalf("answer %s (%v), want retcode %s", raw, err, tt.wantRetcode)
			}
			var got []int64
			for _, q := range answer.Queues {
				got = append(got, q.SkillID.Value())
			}
			if len(got) != len(tt.wantQueues) || (len(got) > 0 && (got[0] != tt.wantQueues[0] || got[len(got)-1] != tt.wantQueues[len(got)-1])) {
				t.Errorf("queues %v, want %v", got, tt.wantQueues)
			}
		})
	}
}

func TestQueueInterfacesCheckTheSession(t *testing.T) {
	s, _ := newTestSimulator(t, Options{Agents: 2})
	id := s.AgentIDs()[0]
	s.SignOut(id)
	if got := agentStatus(t, s, id).Retcode; got != retcodeNotSignedIn {
		t.Errorf("agentstatus of a signed-out agent: retcode %s, want %s", got, retcodeNotSignedIn)
	}
	if got := acdStat(t, s, id, allSkills).Retcode; got != retcodeNotSignedIn {
		t.Errorf("queryacdstat with a signed-out agent: retcode %s, want %s", got, retcodeNotSignedIn)
	}
	other := s.AgentIDs()[1]
	stats := acdStat(t, s, other, allSkills)
	if len(stats.Queues) == 0 || stats.Queues[0].AgentsSignedIn.Value() != 1 {
		t.Errorf("signed-in agents with one of two signed out: %+v", stats.Queues)
	}
	req := httptest.NewRequest(http.MethodGet, routeVDNSkills.prefix+other+routeVDNSkills.suffix, nil)
	req.Header.Set("Guid", "not-the-guid")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if answer, err := gateway.DecodeVDNSkills(rec.Body.Bytes()); err != nil || answer.Retcode != s.opts.BadGuidRetcode {
		t.Errorf("agentvdnskill with a wrong Guid: %s (%v)", rec.Body.Bytes(), err)
	}
}

func TestVDNSkills(t *testing.T) {
	s, _ := newTestSimulator(t, Options{Agents: 1})
	id := s.AgentIDs()[0]
	_, raw := ask(t, s, http.MethodGet, routeVDNSkills.prefix+id+routeVDNSkills.suffix, id, "")
	answer, err := gateway.DecodeVDNSkills(raw)
	if err != nil || answer.Retcode != "0" {
		t.Fatalf("agentvdnskill: %s (%v)", raw, err)
	}
	want := map[int64]string{20011: "voice", 20012: "chat", 20013: "vip", 20014: "video"}
	if len(answer.Skills) != len(want) {
		t.Fatalf("skills %+v, want %v", answer.Skills, want)
	}
	for _, sk := range answer.Skills {
		if want[sk.ID.Value()] != string(sk.Name) {
			t.Errorf("skill %d named %q, want %q", sk.ID.Value(), sk.Name, want[sk.ID.Value()])
		}
	}
	// The queues named here are the queues calls are queued in.
	for _, st := range s.QueueStats() {
		if want[int64(st.SkillID)] != st.Name {
			t.Errorf("QueueStats has queue %d %q", st.SkillID, st.Name)
		}
	}
}
