package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// SetGuidHeader is the answer header that carries a new Guid, as "JSESSIONID=<guid>".
const SetGuidHeader = "Set-GUID" //nolint:revive // spelt like the gateway's header

// setGUIDPrefix comes before the Guid in the Set-GUID header; the Guid is what follows.
const setGUIDPrefix = "JSESSIONID="

// maxSignInBody bounds what a sign-in body may be; the documented fields need a few hundred bytes.
const maxSignInBody = 64 << 10

// serveSession answers the session interfaces: sign-in, forced sign-in, sign-out and the event poll.
// Flow control, faults and per-agent query counts are for the query interface only.
func (s *Simulator) serveSession(w http.ResponseWriter, r *http.Request, rt route, agentID string) {
	if !s.sleep(r.Context(), s.opts.Latency) {
		return
	}
	a, ok := s.agentOf(w, r, rt, agentID)
	if !ok {
		return
	}
	if s.opts.RequireContentType && !isJSONContentType(r.Header.Get("Content-Type")) {
		writeJSON(w, errorBody(retcodeBadMessage))
		return
	}
	switch rt {
	case routeSignIn, routeForceSignIn:
		s.serveSignIn(w, r, a, rt == routeForceSignIn)
	case routeSignOut:
		s.serveSignOut(w, r, a)
	case routeEvents:
		s.serveEvents(w, r, a)
	}
}

// serveSignIn starts a session and hands its Guid out in Set-GUID. A plain sign-in of an agent that
// is signed in already answers 100-002; the forced one takes the session over.
func (s *Simulator) serveSignIn(w http.ResponseWriter, r *http.Request, a *agent, force bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSignInBody))
	if err != nil || !validSignIn(body) {
		writeJSON(w, errorBody(retcodeBadSignIn))
		return
	}
	now := s.opts.Now()
	a.mu.Lock()
	a.advance(now, &s.opts, bits(s.opts.Seed))
	if a.session.signedIn && !force {
		a.mu.Unlock()
		writeJSON(w, errorBody(retcodeSignedInAlready))
		return
	}
	a.signIn(now, bits(s.opts.Seed))
	guid := a.session.guid
	a.mu.Unlock()
	w.Header().Set(SetGuidHeader, setGUIDPrefix+guid)
	writeJSON(w, signInBody(&s.opts, a, now))
}

// validSignIn accepts any JSON object whose password and phonenum, when present, are short strings
// (the documented limits, 32 and 24); a phone number may come as a JSON number. Other fields are not
// checked: sites send different sets.
func validSignIn(body []byte) bool {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return false
	}
	for key, limit := range map[string]int{"password": 32, "phonenum": 24} {
		raw, ok := fields[key]
		if !ok || string(raw) == "null" {
			continue
		}
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			var number json.Number
			if key != "phonenum" || json.Unmarshal(raw, &number) != nil {
				return false
			}
			text = number.String()
		}
		if len(text) > limit {
			return false
		}
	}
	return true
}

func signInBody(o *Options, a *agent, now time.Time) []byte {
	w := okEnvelope("")
	w.key("result")
	w.open()
	// Numbers and booleans as strings, as the documented example shows.
	for _, kv := range [...][2]string{
		{"vdnid", strconv.Itoa(o.VDNID)},
		{"workno", a.id},
		{"mediatype", "TFF"},
		{"loginTime", strconv.FormatInt(now.UnixMilli(), 10)},
		{"isForceChange", "false"},
		{"serverName", "AgentGateway"},
		{"timeRemaining", "9"},
	} {
		w.key(kv[0])
		w.str(kv[1])
	}
	w.close()
	w.close()
	return w.b
}

func (s *Simulator) serveSignOut(w http.ResponseWriter, r *http.Request, a *agent) {
	now := s.opts.Now()
	a.mu.Lock()
	a.advance(now, &s.opts, bits(s.opts.Seed))
	code := a.checkGUID(r.Header.Get("Guid"), now, &s.opts)
	if code == "" {
		a.session.signedIn = false
	}
	a.mu.Unlock()
	if code != "" {
		writeJSON(w, errorBody(code))
		return
	}
	writeJSON(w, okBody("success"))
}

// serveEvents is the event long poll. It keeps the session alive, answers after PollWait (at once
// with the greeting event after a sign-in), and carries the agent's Guid in Set-GUID when it changed
// since the owner last saw it or the poll came with an older one.
func (s *Simulator) serveEvents(w http.ResponseWriter, r *http.Request, a *agent) {
	seed := bits(s.opts.Seed)
	now := s.opts.Now()
	a.mu.Lock()
	a.advance(now, &s.opts, seed)
	code := a.checkGUID(r.Header.Get("Guid"), now, &s.opts)
	number, greet := a.session.number, a.session.greet
	if code == "" {
		a.session.lastPoll = now
		a.session.greet = false
	}
	a.mu.Unlock()
	if code != "" {
		writeJSON(w, errorBody(code))
		return
	}
	if !greet && !s.sleep(r.Context(), s.opts.PollWait) {
		return
	}

	now = s.opts.Now()
	a.mu.Lock()
	a.advance(now, &s.opts, seed)
	ss := &a.session
	if !ss.signedIn || ss.number != number {
		a.mu.Unlock()
		writeJSON(w, errorBody(retcodeNotSignedIn))
		return
	}
	ss.lastPoll = now
	var newGUID string
	if ss.generation != ss.seen || r.Header.Get("Guid") != ss.guid {
		newGUID = ss.guid
		ss.seen = ss.generation
	}
	a.mu.Unlock()
	if newGUID != "" {
		w.Header().Set(SetGuidHeader, setGUIDPrefix+newGUID)
	}
	writeJSON(w, eventBody(a.id, greet))
}

// eventBody is one poll answer: the greeting event, or no event ("event":null) after the wait.
func eventBody(agentID string, greet bool) []byte {
	w := okEnvelope("")
	w.key("event")
	if !greet {
		w.raw("null")
	} else {
		w.open()
		w.key("eventType")
		w.str("AgentOther_InService")
		w.key("workNo")
		w.str(agentID)
		w.key("content")
		w.raw("null")
		w.close()
	}
	w.close()
	return w.b
}

// okEnvelope starts a successful answer: message, then retcode "0"; the
// caller adds what follows and closes it.
func okEnvelope(message string) jsonWriter {
	var w jsonWriter
	w.open()
	w.key("message")
	w.str(message)
	w.key("retcode")
	w.str(retcodeOK)
	return w
}

func okBody(message string) []byte {
	w := okEnvelope(message)
	w.key("result")
	w.str("")
	w.close()
	return w.b
}
