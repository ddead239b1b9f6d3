package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/agentgateway/agentgateway_exporter/internal/bareclient"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// The bare client is the floor the exporter is measured against: the same
// GETs, with the same headers and concurrency, each answer read and decoded
// with encoding/json into the fields the exporter uses, and nothing else.
// It runs in a child process of its own, so getrusage(RUSAGE_SELF) there
// counts its CPU alone: not the simulator's, not the load generator's. The
// parent has it do one round at a time, alternating with the exporter's
// scrapes, so both see the same machine: on a shared machine the CPU time
// of the same work drifts with what else runs.
//
// With queues and agent_state in agents.yml (--queues) it does the
// exporter's work of those too: each agent's agentstatus right after its
// callinfo, on the same worker, and per round one queryacdstat per 100
// skill queues, discovered once with agentvdnskill in the first round.
//
// Protocol: each line "round" on the child's standard input makes it query
// every agent once and answer with a roundReport line; at the end of its
// input it answers with a bareTotals line and exits.

const bareClientArg = "--bare-client-child"

// roundReport is the child's answer to one round.
type roundReport struct {
	Wall       time.Duration `json:"wall"`
	Requests   int64         `json:"requests"`
	Errors     int64         `json:"errors"`
	FirstError string        `json:"first_error,omitempty"`
}

// bareTotals is the child's last answer: its own CPU time from the end of
// its first round (from the start when there was only one) to the end, and
// the requests it sent in that time.
type bareTotals struct {
	CPU     time.Duration `json:"cpu"`
	Queries int           `json:"queries"`
}

type bareAgent struct{ id, url, statusURL, guid string }

// bareWork is what one round asks of the gateway.
type bareWork struct {
	base   string
	agents []bareAgent
	// queues asks for skill-queue statistics; skills are the discovered
	// queues, nil until the first discovery.
	queues bool
	skills []int64
}

// runBareClient is the child's main: it reads the exporter's agents.yml and
// does rounds as told on standard input.
func runBareClient(in io.Reader, out io.Writer, configFile string, concurrency int, timeout time.Duration) error {
	content, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	cfg, err := config.Load(content, configFile)
	if err != nil {
		return err
	}
	gw := cfg.Gateways[0]
	work := &bareWork{base: gw.BaseURL.String(), agents: make([]bareAgent, len(gw.Agents)), queues: gw.Queues != nil}
	for i, a := range gw.Agents {
		id := url.PathEscape(a.ID)
		work.agents[i] = bareAgent{id: id, url: bareclient.URL(work.base, id), guid: string(a.GUID)}
		if gw.AgentState {
			work.agents[i].statusURL = bareclient.AgentStatusURL(work.base, id)
		}
	}
	// The gateway's tls_config (the simulator's certificate with --tls).
	tlsConfig, err := promconfig.NewTLSConfig(&gw.HTTPClientConfig.TLSConfig)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: concurrency,
		DisableCompression:  true,
		IdleConnTimeout:     5 * time.Minute,
		TLSClientConfig:     tlsConfig,
	}}
	defer client.CloseIdleConnections()

	enc := json.NewEncoder(out)
	var (
		totals   bareTotals
		cpuStart time.Duration
		rounds   int
		// firstRequests are the requests of the first round.
		firstRequests int64
	)
	if cpuStart, err = selfCPU(); err != nil {
		return err
	}
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		if lines.Text() != "round" {
			return fmt.Errorf("unknown command %q", lines.Text())
		}
		report := bareRound(client, work, concurrency, timeout)
		if rounds++; rounds == 1 {
			firstRequests = report.Requests
			// The first round opens the connections; like the exporter's
			// first scrape it is left out of the CPU time.
			if cpuStart, err = selfCPU(); err != nil {
				return err
			}
		} else {
			totals.Queries += int(report.Requests)
		}
		if err := enc.Encode(report); err != nil {
			return err
		}
	}
	if err := lines.Err(); err != nil {
		return err
	}
	cpuEnd, err := selfCPU()
	if err != nil {
		return err
	}
	totals.CPU = cpuEnd - cpuStart
	if rounds == 1 {
		// One round only: its CPU time is all there is.
		totals.Queries = int(firstRequests)
	}
	return enc.Encode(totals)
}

// bareRound queries every agent once with concurrency workers; with
// queues, one of the workers' jobs is the round's queue statistics.
func bareRound(client *http.Client, work *bareWork, concurrency int, timeout time.Duration) roundReport {
	var (
		requests, failures atomic.Int64
		firstError         atomic.Value
		wg                 sync.WaitGroup
	)
	fail := func(err error) {
		failures.Add(1)
		firstError.CompareAndSwap(nil, err.Error())
	}
	started := time.Now()
	next := make(chan func())
	for range min(concurrency, len(work.agents)+1) {
		wg.Go(func() {
			for job := range next {
				job()
			}
		})
	}
	if work.queues {
		next <- func() {
			n, err := work.queueStats(client, timeout)
			requests.Add(n)
			if err != nil {
				fail(err)
			}
		}
	}
	for _, a := range work.agents {
		next <- func() {
			n, err := bareQuery(client, a, timeout)
			requests.Add(n)
			if err != nil {
				fail(err)
			}
		}
	}
	close(next)
	wg.Wait()
	report := roundReport{Wall: time.Since(started), Requests: requests.Load(), Errors: failures.Load()}
	if msg, ok := firstError.Load().(string); ok {
		report.FirstError = msg
	}
	return report
}

// bareQuery asks for one agent's call information and, with agent_state,
// then for its state; it returns the requests sent.
func bareQuery(client *http.Client, a bareAgent, timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := bareclient.Query(ctx, client, a.url, a.guid); err != nil || a.statusURL == "" {
		return 1, err
	}
	ctx, cancel = context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return 2, bareclient.QueryAgentStatus(ctx, client, a.statusURL, a.guid)
}

// queueStats discovers the skill queues on the first round and asks for
// their statistics, one request per batch, with the first agent's Guid.
// It returns the requests sent.
func (w *bareWork) queueStats(client *http.Client, timeout time.Duration) (int64, error) {
	a := w.agents[0]
	var sent int64
	if w.skills == nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		skills, err := bareclient.QueryVDNSkills(ctx, client, bareclient.VDNSkillsURL(w.base, a.id), a.guid)
		if sent++; err != nil {
			return sent, err
		}
		w.skills = skills
	}
	for batch := range slices.Chunk(w.skills, gateway.MaxSkillsPerQuery) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := bareclient.QueryACDStat(ctx, client, bareclient.ACDStatURL(w.base, a.id), a.guid, batch)
		cancel()
		if sent++; err != nil {
			return sent, err
		}
	}
	return sent, nil
}

var errBareFailed = errors.New("the bare client's queries failed")

// bareResult is what the parent learned of the bare client.
type bareResult struct {
	rounds   []time.Duration
	cpu      time.Duration // over rounds 2..R (all when R = 1)
	queries  int
	pid      int
	requests int64
	conns    int64
	// simCPU is this process's CPU time during rounds 2..R: the simulator's.
	simCPU time.Duration
}

// bareProc is the parent's side of the bare client child.
type bareProc struct {
	o      options
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *json.Decoder
	stderr bytes.Buffer
	sim    *simulator.Server
	res    bareResult
}

func startBare(ctx context.Context, o options, configFile string, sim *simulator.Server) (*bareProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	//nolint:gosec // this program, re-run as the bare client
	cmd := exec.CommandContext(ctx, self, bareClientArg, "-config="+configFile,
		"-concurrency="+strconv.Itoa(o.concurrency), "-timeout=5s")
	b := &bareProc{o: o, cmd: cmd, sim: sim}
	cmd.Stderr = &b.stderr
	if b.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	b.out = json.NewDecoder(stdout)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b.res.pid = cmd.Process.Pid
	return b, nil
}

// round has the child query every agent once.
func (b *bareProc) round(i int) error {
	requestsBefore, connsBefore := b.sim.Stats().Requests, b.sim.ConnectionsOpened()
	selfBefore, err := selfCPU()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(b.in, "round\n"); err != nil {
		return b.failed(err)
	}
	var report roundReport
	if err := b.out.Decode(&report); err != nil {
		return b.failed(err)
	}
	selfAfter, err := selfCPU()
	if err != nil {
		return err
	}
	if report.Errors > 0 {
		return fmt.Errorf("%w: %d of %d in round %d, first: %s", errBareFailed, report.Errors, b.o.agents, i+1, report.FirstError)
	}
	b.res.rounds = append(b.res.rounds, report.Wall)
	b.res.requests += b.sim.Stats().Requests - requestsBefore
	b.res.conns += b.sim.ConnectionsOpened() - connsBefore
	if i > 0 || b.o.scrapes == 1 {
		b.res.simCPU += selfAfter - selfBefore
	}
	return nil
}

// finish ends the child and returns its measurements.
func (b *bareProc) finish() (*bareResult, error) {
	if err := b.in.Close(); err != nil {
		return nil, b.failed(err)
	}
	var totals bareTotals
	if err := b.out.Decode(&totals); err != nil {
		return nil, b.failed(err)
	}
	if err := b.cmd.Wait(); err != nil {
		return nil, b.failed(err)
	}
	b.res.cpu, b.res.queries = totals.CPU, totals.Queries
	return &b.res, nil
}

// stop kills the child if it still runs; for error paths.
func (b *bareProc) stop() {
	if b.cmd.ProcessState == nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	}
}

// failed stops the child, so that its standard error is complete, and
// wraps err with it.
func (b *bareProc) failed(err error) error {
	b.stop()
	return fmt.Errorf("bare client: %w\n%s", err, b.stderr.Bytes())
}
