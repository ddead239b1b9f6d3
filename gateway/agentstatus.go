package gateway

import (
	"context"
	"net/http"
	"net/url"
)

// Agent state names. Idle, talking and signed_out are the names the
// call-derived states already use; busy, rest, pre_rest and wrap_up only the
// agentstatus interface can tell.
const (
	StateIdle      = "idle"
	StateBusy      = "busy"
	StateRest      = "rest"
	StatePreRest   = "pre_rest"
	StateWrapUp    = "wrap_up"
	StateTalking   = "talking"
	StateSignedOut = "signed_out"
)

// agentStateNames maps the gateway's agent state codes (the "agent state"
// table of the agent gateway reference) to state names. Codes left out have
// no name: 0 is "unknown" and 1 is a reserved "signed in" without any
// working state, so the caller falls back on what the call information
// says rather than taking a guess.
var agentStateNames = map[int64]string{
	2: StateSignedOut,
	3: StateBusy,
	4: StateIdle,
	5: StateWrapUp,
	6: StateIdle, // reserved second code for idle
	7: StateTalking,
	8: StateRest,
	9: StatePreRest,
}

// AgentStateNames lists every name AgentStatus.Name can return, for the
// collector to emit one series per state.
var AgentStateNames = []string{StateIdle, StateBusy, StateRest, StatePreRest, StateWrapUp, StateTalking, StateSignedOut}

// AgentStatus is the result of agentstatus ("Getting Agent Status").
type AgentStatus struct {
	// State is agentState, the gateway's state code; not Valid when absent
	// or unreadable.
	State Number `json:"agentState"`
	// Working is isWorking: whether the agent is in a call.
	Working Bool `json:"isWorking"`
}

// Name returns the state name of the code, and false for a code without
// one (unknown, reserved, or a code not in the documented table).
func (s AgentStatus) Name() (string, bool) {
	if !s.State.Valid() {
		return "", false
	}
	name, ok := agentStateNames[s.State.Value()]
	return name, ok
}

// AgentStatusAnswer is a decoded agentstatus answer.
type AgentStatusAnswer struct {
	Retcode string
	Message string
	// Status is nil when the gateway sent no readable state (result absent,
	// null, "", an empty list, or an object without agentState).
	Status *AgentStatus
}

func (a *AgentStatusAnswer) envelope() (retcode, message string) { return a.Retcode, a.Message }

// DecodeAgentStatus decodes an agentstatus answer. The result is documented
// as a list but the example shows an object; both are accepted, and of a
// list only the first object is read.
func DecodeAgentStatus(body []byte) (*AgentStatusAnswer, error) {
	list, err := agentStatusList.decode(body)
	if err != nil {
		return nil, err
	}
	answer := &AgentStatusAnswer{Retcode: list.retcode, Message: list.message}
	if len(list.items) > 0 {
		answer.Status = &list.items[0]
	}
	return answer, nil
}

var agentStatusList = newListDecoder(1, func(s *AgentStatus) bool { return s.State.Valid() })

// AgentStatusURL is the agentstatus address for one agent.
func (c *Client) AgentStatusURL(agentID string) string {
	return c.baseURL + "/agentgateway/resource/onlineagent/" + url.PathEscape(agentID) + "/agentstatus"
}

// QueryAgentStatus asks the gateway for the agent's state. Errors as for
// QueryCallInfo.
func (c *Client) QueryAgentStatus(ctx context.Context, agentID, guid string) (*AgentStatusAnswer, error) {
	answer, _, err := query(ctx, c, http.MethodGet, c.AgentStatusURL(agentID), guid, nil, DecodeAgentStatus)
	return answer, err
}

// Bool is a boolean field as the gateway sends it: true/false, "true" /
// "false", or 1/0 and "1"/"0". Anything else is not Valid.
type Bool struct {
	Value bool
	Valid bool
}

// UnmarshalJSON never fails; see Number.
func (b *Bool) UnmarshalJSON(raw []byte) error {
	*b = Bool{}
	if text, ok := scalarText(raw); ok {
		*b = boolFromText(text)
	}
	return nil
}

// boolFromText reads a boolean field's text: the raw JSON value, or the
// content of a JSON string, white space trimmed. It takes what
// strconv.ParseBool takes but the one-letter forms, and allocates
// nothing.
func boolFromText(text []byte) Bool {
	switch string(text) {
	case "true", "True", "TRUE", "1":
		return Bool{Value: true, Valid: true}
	case "false", "False", "FALSE", "0":
		return Bool{Value: false, Valid: true}
	}
	return Bool{}
}
