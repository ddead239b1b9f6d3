package simulator

import "time"

// SetCall takes the agent off the automatic lifecycle and reports c until ResumeLifecycle, SetCall or EndCall.
// Zero fields get defaults, and missing times are filled so that the call is in c.Phase now: a phase
// in progress has lasted a few seconds, an ended call ends now. PhaseIdle makes c the previous call of
// an idle agent. Options.Quirks shape the answer as for generated calls, except that UnknownEnums
// does not change the values given.
func (s *Simulator) SetCall(agentID string, c Call) {
	a, now := s.lockAgent(agentID)
	defer a.mu.Unlock()
	_, previous := a.calls(now, &s.life)
	a.manualCount++
	c = completeManual(c, now, s.opts.VDNID, hashOf(bits(s.opts.Seed), purposeManual, bits(int64(a.num)), a.manualCount))
	if c.Phase == PhaseIdle {
		c.Phase = PhaseEnded
		a.manual = &manualCalls{previous: &c}
		return
	}
	a.manual = &manualCalls{current: &c, previous: previous}
}

// EndCall ends the agent's current call now with the given leave reason (15 customer released,
// 16 agent released, 17 transferred out, 50 agent rejected, ...). The agent is then idle with that call
// as its previous call, off the automatic lifecycle until ResumeLifecycle. Without a current call the
// agent just stays idle.
func (s *Simulator) EndCall(agentID string, leaveReason int) {
	a, now := s.lockAgent(agentID)
	defer a.mu.Unlock()
	current, previous := a.calls(now, &s.life)
	if current != nil {
		ended := *current
		if ended.End.IsZero() {
			ended.End = now
			switch ended.Phase {
			case PhaseTalking:
				ended.TalkEnd = now
			case PhaseRinging:
				ended.AnswerEnd = now
			case PhaseQueued:
				ended.WaitEnd = now
			}
		}
		ended.Phase = PhaseEnded
		ended.LeaveReason = leaveReason
		ended.wrapUntil = time.Time{}
		previous = &ended
	}
	a.manual = &manualCalls{previous: previous}
}

// ClearCalls makes the agent idle without a previous call, as after a fresh sign-in, off the automatic
// lifecycle until ResumeLifecycle.
func (s *Simulator) ClearCalls(agentID string) {
	a, _ := s.lockAgent(agentID)
	defer a.mu.Unlock()
	a.manual = &manualCalls{}
}

// ResumeLifecycle hands the agent back to the automatic lifecycle after SetCall, EndCall or ClearCalls.
func (s *Simulator) ResumeLifecycle(agentID string) {
	a, _ := s.lockAgent(agentID)
	defer a.mu.Unlock()
	a.manual = nil
}

// Calls returns what the agent's answers report at the simulator's clock: the current call and the
// previous one, nil when there is none. Tests use it to know what to expect.
func (s *Simulator) Calls(agentID string) (current, previous *Call) {
	a, now := s.lockAgent(agentID)
	defer a.mu.Unlock()
	return a.calls(now, &s.life)
}

// SignOut ends the agent's session: it answers 100-006 (not signed in) until SignIn or a new sign-in.
func (s *Simulator) SignOut(agentID string) {
	a, _ := s.lockAgent(agentID)
	defer a.mu.Unlock()
	a.session.signedIn = false
}

// SignIn undoes SignOut: the agent keeps its Guid, and counts as polled now. An agent that never had a
// Guid gets a new session, as a sign-in through the gateway's interface would give it.
func (s *Simulator) SignIn(agentID string) {
	a, now := s.lockAgent(agentID)
	defer a.mu.Unlock()
	if a.session.guid == "" {
		a.signIn(now, bits(s.opts.Seed))
		return
	}
	if !a.session.signedIn {
		a.session.signedIn = true
		a.session.issued = now
	}
	a.session.lastPoll = now
}

// SetRetcode makes the agent's answers carry this error code (with "result":""); "" clears it.
// Sign-out, Guid and flow control checks come first.
func (s *Simulator) SetRetcode(agentID, retcode string) {
	a, _ := s.lockAgent(agentID)
	defer a.mu.Unlock()
	a.retcode = retcode
}

// SetFault makes the agent's answers fail as f says, before any other check; Fault{} clears it.
func (s *Simulator) SetFault(agentID string, f Fault) {
	a, _ := s.lockAgent(agentID)
	defer a.mu.Unlock()
	a.fault = f
	a.faultLeft = f.Count
}
