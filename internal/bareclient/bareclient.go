// Package bareclient is the floor the exporter is measured against: a
// plain client that sends one call information query and decodes the
// answer with encoding/json, with no tolerance for the gateway's quirks and
// no metrics. The benchmarks and the load command share it so that both
// compare against the same work.
package bareclient

import (
	"context"
	"encoding/json"
	"net/http"
)

type answer struct {
	Retcode string          `json:"retcode"`
	Message string          `json:"message"`
	Result  json.RawMessage `json:"result"`
}

type trace struct {
	WaitBeginTime   *int64 `json:"waitBeginTime"`
	WaitEndTime     *int64 `json:"waitEndTime"`
	AnswerBeginTime *int64 `json:"answerBeginTime"`
	AnswerEndTime   *int64 `json:"answerEndTime"`
	TalkBeginTime   *int64 `json:"talkBeginTime"`
	TalkEndTime     *int64 `json:"talkEndTime"`
	LeaveReason     *int64 `json:"leaveReason"`
}

// call holds the fields the exporter reads, so the decode does the same
// amount of work.
type call struct {
	CallFeature *int64 `json:"callfeature"`
	CallID      string `json:"callid"`
	CallSkill   string `json:"callskill"`
	CallSkillID *int64 `json:"callskillid"`
	BeginTime   *int64 `json:"begintime"`
	EndTime     *int64 `json:"endtime"`
	LogonTimes  *int64 `json:"logontimes"`
	MediaType   *int64 `json:"mediaType"`
	Trace       *trace `json:"trace"`
}

// URL is the queryCallInfo address of an agent, with the last call included.
func URL(baseURL, agentID string) string {
	return baseURL + "/agentgateway/resource/calldata/" + agentID + "/callinfo?isNoContainLastCall=true"
}

// Query sends one query to url and decodes the answer; a non-zero retcode
// is an error.
func Query(ctx context.Context, client *http.Client, url, guid string) error {
	result, err := send(ctx, client, http.MethodGet, url, guid, nil)
	if err != nil {
		return err
	}
	if len(result) > 0 && result[0] == '{' {
		var c call
		return json.Unmarshal(result, &c)
	}
	return nil
}
