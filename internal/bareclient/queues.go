package bareclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/agentgateway/agentgateway_exporter/internal/httpcall"
)

// The queue and agent-state interfaces, decoded as plainly as Query
// decodes call information: the fields the exporter reads, no quirks.

type agentStatus struct {
	AgentState *int64 `json:"agentState"`
	IsWorking  *bool  `json:"isWorking"`
}

type skill struct {
	ID        *int64 `json:"id"`
	Name      string `json:"name"`
	MediaType *int64 `json:"mediatype"`
	RealFlag  *int64 `json:"realFlag"`
}

type queueStat struct {
	DeviceNo       *int64 `json:"deviceNo"`
	QueueSize      *int64 `json:"queueSize"`
	QueueTime      *int64 `json:"queueTime"`
	LoggedOnAgents *int64 `json:"loggedOnAgents"`
	AvailAgents    *int64 `json:"availAgents"`
	SkillDescrip   string `json:"skillDescrip"`
	PilotNbr       string `json:"pilotNbr"`
}

// AgentStatusURL is the agentstatus address of an agent.
func AgentStatusURL(baseURL, agentID string) string {
	return baseURL + "/agentgateway/resource/onlineagent/" + agentID + "/agentstatus"
}

// VDNSkillsURL is the agentvdnskill address, sent with an agent's Guid.
func VDNSkillsURL(baseURL, agentID string) string {
	return baseURL + "/agentgateway/resource/queuedevice/" + agentID + "/agentvdnskill"
}

// ACDStatURL is the queryacdstat address, sent with an agent's Guid.
func ACDStatURL(baseURL, agentID string) string {
	return baseURL + "/agentgateway/resource/queuedevice/" + agentID + "/queryacdstat"
}

// QueryAgentStatus asks for one agent's state; the result is an object.
func QueryAgentStatus(ctx context.Context, client *http.Client, url, guid string) error {
	result, err := send(ctx, client, http.MethodGet, url, guid, nil)
	if err != nil || len(result) == 0 || result[0] != '{' {
		return err
	}
	var s agentStatus
	return json.Unmarshal(result, &s)
}

// QueryVDNSkills asks for the skill queues of the agent's VDN and returns
// their ids.
func QueryVDNSkills(ctx context.Context, client *http.Client, url, guid string) ([]int64, error) {
	result, err := send(ctx, client, http.MethodGet, url, guid, nil)
	if err != nil {
		return nil, err
	}
	var skills []skill
	if err := json.Unmarshal(result, &skills); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(skills))
	for _, s := range skills {
		if s.ID != nil {
			ids = append(ids, *s.ID)
		}
	}
	return ids, nil
}

// QueryACDStat asks for the statistics of one batch of skill queues.
func QueryACDStat(ctx context.Context, client *http.Client, url, guid string, skills []int64) error {
	body := []byte(`{"skills":[`)
	for i, id := range skills {
		if i > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendInt(body, id, 10)
	}
	body = append(body, "]}"...)
	result, err := send(ctx, client, http.MethodPost, url, guid, body)
	if err != nil {
		return err
	}
	var stats []queueStat
	return json.Unmarshal(result, &stats)
}

// send makes one request and returns the result of a zero-retcode answer.
func send(ctx context.Context, client *http.Client, method, url, guid string, body []byte) (json.RawMessage, error) {
	ans, err := httpcall.Do(ctx, client, httpcall.Request{Method: method, URL: url, Body: body}, func(h http.Header) {
		h.Set("Content-Type", "application/json; charset=UTF-8")
		h.Set("Guid", guid)
	})
	if err != nil {
		return nil, err
	}
	var a answer
	if err := json.Unmarshal(ans.Body, &a); err != nil {
		return nil, err
	}
	if a.Retcode != "0" {
		return nil, fmt.Errorf("retcode %s", a.Retcode)
	}
	return a.Result, nil
}
