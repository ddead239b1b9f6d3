package simulator

import (
	"fmt"
	"time"
)

// AuthMode is how the simulated gateway hands out Guids.
type AuthMode uint8

const (
	// AuthPreset signs every agent in from the start with the Guid Guid(Seed, id), which changes only
	// through RotateGuid or a new sign-in. Nobody has to poll. Configurations with inline Guids rely on it.
	AuthPreset AuthMode = iota
	// AuthStatic is the gateway's static authentication (AUTHMODE 1): agents start signed out; a sign-in
	// gives a Guid that lasts for the whole session. The session ends when nobody polls for IdleSignOut.
	AuthStatic
	// AuthDynamic is the gateway's default dynamic authentication (AUTHMODE 2): as AuthStatic, but the
	// Guid is renewed every GuidInterval and the new one reaches only the event poll, in a Set-GUID
	// header. A replaced Guid is still accepted for GuidTimeout.
	AuthDynamic
)

var authModeNames = [...]string{"preset", "static", "dynamic"}

func (m AuthMode) String() string {
	if int(m) < len(authModeNames) {
		return authModeNames[m]
	}
	return fmt.Sprintf("AuthMode(%d)", m)
}

// ParseAuthMode reads "preset", "static" or "dynamic".
func ParseAuthMode(name string) (AuthMode, error) {
	for i, n := range authModeNames {
		if n == name {
			return AuthMode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown auth mode %q (want preset, static or dynamic)", name)
}

// AuthModeNames lists the names ParseAuthMode accepts, for flag help.
func AuthModeNames() []string { return authModeNames[:] }

// keptRetiredGUIDs is how many replaced Guids an agent remembers beyond those still accepted, so that
// a recently replaced Guid is answered as stale rather than unknown; older ones are forgotten, which
// keeps a long run with thousands of renewing agents bounded.
const keptRetiredGUIDs = 16

// session is one agent's sign-in state. The caller holds the agent's lock.
type session struct {
	signedIn   bool
	guid       string // the current Guid; kept after a sign-out so that SignIn can restore it
	generation uint64 // counts every Guid the agent was given; it seeds the next one
	number     uint64 // counts sign-ins, so that a poll outlived by its session is not answered for the next
	issued     time.Time
	lastPoll   time.Time
	// seen is the generation last handed to the session owner; a newer one goes out in Set-GUID.
	seen    uint64
	retired []retiredGUID // oldest first
	// greet makes the first poll after a sign-in answer at once with an event, as the gateway does.
	greet bool
}

type retiredGUID struct {
	guid  string
	until time.Time // accepted before this instant; zero: never again
}

// advance brings the session to now: Guid renewals that fell due, then the sign-out of an agent
// nobody polled. Both are computed from the clock on demand, so idle agents cost nothing.
func (a *agent) advance(now time.Time, o *Options, seed uint64) {
	ss := &a.session
	if !ss.signedIn || o.AuthMode == AuthPreset {
		return
	}
	end, idle := now, false
	if o.IdleSignOut > 0 {
		if deadline := ss.lastPoll.Add(o.IdleSignOut); !now.Before(deadline) {
			end, idle = deadline, true
		}
	}
	if o.AuthMode == AuthDynamic && o.GuidInterval > 0 {
		due := int64(end.Sub(ss.issued) / o.GuidInterval)
		// After a long jump of the clock only the last renewals can still matter.
		if skip := due - int64(o.GuidTimeout/o.GuidInterval) - 2; skip > 0 {
			ss.generation += uint64(skip)
			ss.issued = ss.issued.Add(time.Duration(skip) * o.GuidInterval)
			due -= skip
		}
		for range due {
			ss.issued = ss.issued.Add(o.GuidInterval)
			a.replaceGUID(seed, ss.issued.Add(o.GuidTimeout), now)
		}
	}
	if idle {
		ss.signedIn = false
	}
}

// replaceGUID gives the agent its next Guid; the old one stays accepted until until.
func (a *agent) replaceGUID(seed uint64, until, now time.Time) {
	ss := &a.session
	if ss.guid != "" {
		ss.retired = append(ss.retired, retiredGUID{guid: ss.guid, until: until})
	}
	// Forget what is neither accepted any more nor among the most recent.
	drop := 0
	for drop < len(ss.retired)-keptRetiredGUIDs && !now.Before(ss.retired[drop].until) {
		drop++
	}
	ss.retired = ss.retired[drop:]
	ss.generation++
	ss.guid = guidFor(seed, a.id, ss.generation)
}

// signIn starts a new session; a Guid of an earlier session is not accepted any more.
func (a *agent) signIn(now time.Time, seed uint64) {
	a.replaceGUID(seed, time.Time{}, now)
	ss := &a.session
	ss.signedIn = true
	ss.number++
	ss.issued = now
	ss.lastPoll = now
	ss.seen = ss.generation
	ss.greet = true
}

// checkGUID returns "" when the agent is signed in and guid is accepted, or the retcode to answer.
func (a *agent) checkGUID(guid string, now time.Time, o *Options) string {
	ss := &a.session
	if !ss.signedIn {
		return retcodeNotSignedIn
	}
	if guid != "" && guid == ss.guid {
		return ""
	}
	for _, r := range ss.retired {
		if guid == r.guid {
			if now.Before(r.until) {
				return ""
			}
			return o.StaleGuidRetcode
		}
	}
	return o.BadGuidRetcode
}
