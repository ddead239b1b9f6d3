package simulator

import (
	"fmt"
	"time"
)

// Guid returns the Guid the agent must currently send: in AuthDynamic the latest renewal, even one no
// poll has handed out yet; "" while the agent never signed in.
func (s *Simulator) Guid(agentID string) string { //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	a, _ := s.lockSession(agentID)
	defer a.mu.Unlock()
	return a.session.guid
}

// GuidAccepted reports whether a query of the agent with this Guid would pass the session check now.
func (s *Simulator) GuidAccepted(agentID, guid string) bool { //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	a, now := s.lockSession(agentID)
	defer a.mu.Unlock()
	return a.checkGUID(guid, now, &s.opts) == ""
}

// SignedIn reports whether the agent has a session now (an agent nobody polled is signed out).
func (s *Simulator) SignedIn(agentID string) bool {
	a, _ := s.lockSession(agentID)
	defer a.mu.Unlock()
	return a.session.signedIn
}

// Guid returns the first Guid the simulator with this seed gives the agent, shaped like a real one
// ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.AgentGateway0"), so configurations can be written before a simulator runs.
func Guid(seed int64, agentID string) string { //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	return guidFor(bits(seed), agentID, 0)
}

func guidFor(seed uint64, agentID string, generation uint64) string {
	hi := hashOf(seed, purposeGUID, hashString(agentID), generation)
	lo := mix64(hi ^ purposeGUID)
	// Version 4 and RFC 4122 variant bits, so the value passes for a random UUID.
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x.AgentGateway0",
		hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// RotateGuid gives the agent a new Guid, as the gateway's dynamic authentication does, and returns it.
// Unlike a renewal, the old Guid is answered with Options.StaleGuidRetcode at once. The session owner
// gets the new one with its next poll.
func (s *Simulator) RotateGuid(agentID string) string { //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	a, now := s.lockSession(agentID)
	defer a.mu.Unlock()
	a.replaceGUID(bits(s.opts.Seed), time.Time{}, now)
	a.session.issued = now
	return a.session.guid
}
