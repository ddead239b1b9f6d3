package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentgateway/agentgateway_exporter/config"
)

// The bare client is the floor the exporter is measured against: the same
// GETs, with the same headers and concurrency, each answer read and decoded
// with encoding/json into the fields the exporter uses, and nothing else.
// It runs in a child process of its own, so getrusage(RUSAGE_SELF) there
// counts its CPU alone: not the simulator's, not the load generator's.

// bareResult is what the child reports on its standard output.
type bareResult struct {
	Rounds []time.Duration `json:"rounds"`
	// CPU is the child's own CPU time over rounds 2..R (over all rounds
	// when there is only one), and Queries the queries in that span.
	CPU     time.Duration `json:"cpu"`
	Queries int           `json:"queries"`
	Errors  int64         `json:"errors"`
	// FirstError describes one failed query, if any.
	FirstError string `json:"first_error,omitempty"`
}

// bareAnswer is the envelope; a plain client has no tolerance for the
// gateway's quirks, which the simulator does not send in a load test.
type bareAnswer struct {
	Retcode string          `json:"retcode"`
	Message string          `json:"message"`
	Result  json.RawMessage `json:"result"`
}

type bareTrace struct {
	WaitBeginTime   *int64 `json:"waitBeginTime"`
	WaitEndTime     *int64 `json:"waitEndTime"`
	AnswerBeginTime *int64 `json:"answerBeginTime"`
	AnswerEndTime   *int64 `json:"answerEndTime"`
	TalkBeginTime   *int64 `json:"talkBeginTime"`
	TalkEndTime     *int64 `json:"talkEndTime"`
	EnterReason     *int64 `json:"enterReason"`
	LeaveReason     *int64 `json:"leaveReason"`
	LeaveReasonDesc string `json:"leaveReasonDesc"`
}

type bareCall struct {
	CallFeature  *int64     `json:"callfeature"`
	CallID       string     `json:"callid"`
	CallSkill    string     `json:"callskill"`
	CallSkillID  *int64     `json:"callskillid"`
	BeginTime    *int64     `json:"begintime"`
	EndTime      *int64     `json:"endtime"`
	LogonTimes   *int64     `json:"logontimes"`
	MediaType    *int64     `json:"mediaType"`
	MediaAbility *int64     `json:"mediaAbility"`
	Trace        *bareTrace `json:"trace"`
}

type bareAgent struct{ url, guid string }

// runBareClient is the child's main: it reads the exporter's agents.yml,
// queries every agent `rounds` times and prints a bareResult.
func runBareClient(configFile string, rounds, concurrency int, timeout time.Duration) error {
	content, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	cfg, err := config.Load(content, configFile)
	if err != nil {
		return err
	}
	gw := cfg.Gateways[0]
	agents := make([]bareAgent, len(gw.Agents))
	base := gw.BaseURL.String()
	for i, a := range gw.Agents {
		agents[i] = bareAgent{
			url:  base + "/agentgateway/resource/calldata/" + url.PathEscape(a.ID) + "/callinfo?isNoContainLastCall=true",
			guid: string(a.GUID),
		}
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: concurrency,
		DisableCompression:  true,
		IdleConnTimeout:     5 * time.Minute,
	}}
	defer client.CloseIdleConnections()

	var (
		result     bareResult
		failures   atomic.Int64
		firstError atomic.Value
	)
	var cpuStart time.Duration
	for round := range rounds {
		if round == 1 || rounds == 1 {
			if cpuStart, err = selfCPU(); err != nil {
				return err
			}
			result.Queries = 0
		}
		started := time.Now()
		next := make(chan bareAgent)
		var wg sync.WaitGroup
		for range min(concurrency, len(agents)) {
			wg.Go(func() {
				for a := range next {
					if err := bareQuery(client, a, timeout); err != nil {
						failures.Add(1)
						firstError.CompareAndSwap(nil, err.Error())
					}
				}
			})
		}
		for _, a := range agents {
			next <- a
		}
		close(next)
		wg.Wait()
		result.Rounds = append(result.Rounds, time.Since(started))
		result.Queries += len(agents)
	}
	cpuEnd, err := selfCPU()
	if err != nil {
		return err
	}
	result.CPU = cpuEnd - cpuStart
	result.Errors = failures.Load()
	if msg, ok := firstError.Load().(string); ok {
		result.FirstError = msg
	}
	return json.NewEncoder(os.Stdout).Encode(result)
}

func bareQuery(client *http.Client, a bareAgent, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url, http.NoBody)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Guid", a.guid)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var answer bareAnswer
	if err := json.Unmarshal(body, &answer); err != nil {
		return err
	}
	if answer.Retcode != "0" {
		return fmt.Errorf("retcode %s", answer.Retcode)
	}
	if len(answer.Result) > 0 && answer.Result[0] == '{' {
		var call bareCall
		if err := json.Unmarshal(answer.Result, &call); err != nil {
			return err
		}
	}
	return nil
}

var errBareFailed = errors.New("the bare client's queries failed")
