package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// MaxSkillsPerQuery is the documented limit of skill ids in one
// queryacdstat request.
const MaxSkillsPerQuery = 100

// MaxVDNSkills bounds how many skill queues are read from one agentvdnskill
// answer. Skill queue ids of a VDN range up to a few thousand at most; the
// bound protects the exporter, not the gateway.
const MaxVDNSkills = 2000

// ErrSkillCount is returned, without any request being sent, when
// QueryACDStat is given no skill ids or more than MaxSkillsPerQuery. It is
// a mistake of the caller, which must split with SkillBatches.
var ErrSkillCount = fmt.Errorf("queryacdstat takes 1 to %d skill ids", MaxSkillsPerQuery)

// QueueStat is one skill queue of a queryacdstat ("Querying the Statistics
// About a Set of Skill Queues") answer. A field the gateway did not send in
// a readable form is not Valid; nothing is invented.
type QueueStat struct {
	// SkillID is deviceNo, the skill queue id; entries without a readable
	// one cannot be attributed and are dropped by the decoder.
	SkillID Number `json:"deviceNo"`
	// CallsWaiting is queueSize: calls waiting in the queue now.
	CallsWaiting Number `json:"queueSize"`
	// LongestWaitSeconds is queueTime: how long the call waiting longest
	// has waited so far, in seconds.
	LongestWaitSeconds Number `json:"queueTime"`
	// AgentsSignedIn is loggedOnAgents: agents signed in to the queue.
	AgentsSignedIn Number `json:"loggedOnAgents"`
	// AgentsAvailable is availAgents: agents of the queue free to take a call.
	AgentsAvailable Number `json:"availAgents"`
	// Description is skillDescrip, the queue's description (its name on
	// every example seen).
	Description Text `json:"skillDescrip"`
	// PilotNumber is pilotNbr, the queue's access code. It is a phone
	// number: never a label.
	PilotNumber Text `json:"pilotNbr"`
}

// ACDStatAnswer is a decoded queryacdstat answer.
type ACDStatAnswer struct {
	Retcode string
	Message string
	// Queues holds the entries with a readable skill id, in the order sent.
	Queues []QueueStat
	// Truncated is set when the gateway sent more than MaxSkillsPerQuery
	// entries; only the first ones are kept.
	Truncated bool
}

func (a *ACDStatAnswer) envelope() (retcode, message string) { return a.Retcode, a.Message }

// ByID returns the statistics of the requested skill ids that the answer
// holds, the first entry winning for a repeated id. Entries for ids that
// were not asked for are left out, so that the label set stays the one the
// caller chose; an id without an entry is a queue the gateway did not
// answer for.
func (a *ACDStatAnswer) ByID(requested []int64) map[int64]QueueStat {
	want := make(map[int64]bool, len(requested))
	for _, id := range requested {
		want[id] = true
	}
	found := make(map[int64]QueueStat, len(requested))
	for _, q := range a.Queues {
		id := q.SkillID.Value()
		if _, seen := found[id]; want[id] && !seen {
			found[id] = q
		}
	}
	return found
}

// DecodeACDStat decodes a queryacdstat answer. The result is documented as
// a list; a lone object, null, "" and an absent result are accepted too (the
// last three as no entries).
func DecodeACDStat(body []byte) (*ACDStatAnswer, error) {
	list, err := acdStatList.decode(body)
	if err != nil {
		return nil, err
	}
	return &ACDStatAnswer{Retcode: list.retcode, Message: list.message, Queues: list.items, Truncated: list.truncated}, nil
}

var acdStatList = newListDecoder(MaxSkillsPerQuery, func(q *QueueStat) bool { return q.SkillID.Valid() })

// Skill is one skill queue of an agentvdnskill ("Obtaining the Skill Queue
// Information of the Home VDN of an Agent") answer.
type Skill struct {
	ID        Number `json:"id"`
	Name      Text   `json:"name"`
	MediaType Number `json:"mediatype"`
	// RealFlag is 1 for a real queue and 0 for a virtual one (documented
	// on the older page only).
	RealFlag Number `json:"realFlag"`
}

// VDNSkillsAnswer is a decoded agentvdnskill answer.
type VDNSkillsAnswer struct {
	Retcode string
	Message string
	// Skills holds the entries with a readable id, in the order sent.
	Skills []Skill
	// Truncated is set when the gateway sent more than MaxVDNSkills
	// entries; only the first ones are kept.
	Truncated bool
}

func (a *VDNSkillsAnswer) envelope() (retcode, message string) { return a.Retcode, a.Message }

// DecodeVDNSkills decodes an agentvdnskill answer, as leniently as
// DecodeACDStat.
func DecodeVDNSkills(body []byte) (*VDNSkillsAnswer, error) {
	list, err := vdnSkillsList.decode(body)
	if err != nil {
		return nil, err
	}
	return &VDNSkillsAnswer{Retcode: list.retcode, Message: list.message, Skills: list.items, Truncated: list.truncated}, nil
}

var vdnSkillsList = newListDecoder(MaxVDNSkills, func(s *Skill) bool { return s.ID.Valid() })

// ACDStatURL is the queryacdstat address for one agent.
func (c *Client) ACDStatURL(agentID string) string {
	return c.baseURL + "/agentgateway/resource/queuedevice/" + url.PathEscape(agentID) + "/queryacdstat"
}

// VDNSkillsURL is the agentvdnskill address for one agent.
func (c *Client) VDNSkillsURL(agentID string) string {
	return c.baseURL + "/agentgateway/resource/queuedevice/" + url.PathEscape(agentID) + "/agentvdnskill"
}

// QueryACDStat asks the gateway, with the session of agentID, for the
// statistics of 1 to MaxSkillsPerQuery skill queues. A non-nil error is a
// *QueryError, classified as for QueryCallInfo (for ReasonRetcode the
// answer is returned as well), or ErrSkillCount.
func (c *Client) QueryACDStat(ctx context.Context, agentID, guid string, skills []int64) (*ACDStatAnswer, error) {
	if len(skills) == 0 || len(skills) > MaxSkillsPerQuery {
		return nil, ErrSkillCount
	}
	answer, _, err := query(ctx, c, http.MethodPost, c.ACDStatURL(agentID), guid, skillsBody(skills), DecodeACDStat)
	return answer, err
}

// skillsBody renders {"skills":[ids…]}. The ids are sent as JSON numbers,
// the type of deviceNo in the answer.
func skillsBody(skills []int64) []byte {
	body := append(make([]byte, 0, 12+8*len(skills)), `{"skills":[`...)
	for i, id := range skills {
		if i > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendInt(body, id, 10)
	}
	return append(body, "]}"...)
}

// QueryVDNSkills asks the gateway for the skill queues of the VDN of
// agentID. Errors as for QueryCallInfo.
func (c *Client) QueryVDNSkills(ctx context.Context, agentID, guid string) (*VDNSkillsAnswer, error) {
	answer, _, err := query(ctx, c, http.MethodGet, c.VDNSkillsURL(agentID), guid, nil, DecodeVDNSkills)
	return answer, err
}

// SkillBatches splits skill ids into requests of at most MaxSkillsPerQuery.
// The batches share the backing array of ids.
func SkillBatches(ids []int64) [][]int64 {
	batches := make([][]int64, 0, (len(ids)+MaxSkillsPerQuery-1)/MaxSkillsPerQuery)
	for len(ids) > MaxSkillsPerQuery {
		batches = append(batches, ids[:MaxSkillsPerQuery:MaxSkillsPerQuery])
		ids = ids[MaxSkillsPerQuery:]
	}
	if len(ids) > 0 {
		batches = append(batches, ids)
	}
	return batches
}
