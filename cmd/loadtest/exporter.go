package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/httpcall"
	"github.com/agentgateway/agentgateway_exporter/internal/loopback"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// exporterRun is what was measured of the exporter.
type exporterRun struct {
	scrapes []time.Duration
	// cpu is the exporter's CPU time over scrapes 2..R (all when R = 1),
	// and queries the requests the simulator saw in those scrapes.
	cpu      time.Duration
	queries  int
	totalCPU time.Duration // over the whole life of the process, from wait4
	peakRSS  int64         // VmHWM
	requests int64
	// firstConns are the connections the simulator accepted during the first
	// scrape, laterConns those of all the others.
	firstConns, laterConns int64
	agentsUp               []int // agents with agent_up 1, per scrape
	bodyBytes              int   // size of the last answer as sent
	textBytes              int   // and uncompressed
	series                 int   // samples in the last answer
	heap, rss, goroutines  []float64
	// queryPhase is the exporter's own agentgateway_gateway_scrape_duration_seconds.
	queryPhase []time.Duration
	// simCPU is this process's CPU time while scrapes 2..R were in flight:
	// the simulator's work, plus reading the answers.
	simCPU time.Duration
	// endedCalls is the sum of the leave-reason counters, per scrape.
	endedCalls []float64
}

// exporterProc is the exporter binary running as a child process.
type exporterProc struct {
	o       options
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
	log     *os.File
	base    string
	client  *http.Client
	timeout time.Duration
	sim     *simulator.Server

	run      exporterRun
	cpuStart time.Duration
}

func startExporter(ctx context.Context, o options, bin, dir, configFile string, sim *simulator.Server) (*exporterProc, error) {
	addr, err := loopback.FreeAddr(ctx)
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "exporter.log"))
	if err != nil {
		return nil, err
	}
	//nolint:gosec // the exporter binary is the one built by loadTest or named by --exporter
	cmd := exec.CommandContext(ctx, bin, "--config.file="+configFile, "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), exporterEnv(o)...)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	timeout := max(10*time.Second, 2*expectedRound(o)+5*time.Second)
	x := &exporterProc{
		o: o, cmd: cmd, exited: make(chan struct{}), log: logFile, base: "http://" + addr, sim: sim, timeout: timeout,
		client: &http.Client{Timeout: timeout + 10*time.Second, Transport: &http.Transport{DisableCompression: true}},
	}
	go func() {
		_ = cmd.Wait()
		close(x.exited)
	}()
	if err := waitReady(ctx, x.base+"/-/healthy", x.exited); err != nil {
		tail := x.logTail()
		x.stop()
		return nil, fmt.Errorf("exporter did not start: %w\n%s", err, tail)
	}
	return x, nil
}

func (x *exporterProc) pid() int { return x.cmd.Process.Pid }

// stop ends the exporter; it is safe to call more than once.
func (x *exporterProc) stop() {
	if x.stopped {
		return
	}
	x.stopped = true
	x.client.CloseIdleConnections()
	terminate(x.cmd, x.exited)
	x.log.Close()
}

func (x *exporterProc) logTail() string {
	raw, _ := os.ReadFile(x.log.Name())
	if len(raw) > 2000 {
		raw = raw[len(raw)-2000:]
	}
	return string(raw)
}

// scrape performs scrape i of /metrics and records what it shows.
func (x *exporterProc) scrape(ctx context.Context, i int) error {
	o, run := x.o, &x.run
	if i == 1 || o.scrapes == 1 {
		cpu, err := processCPU(x.pid())
		if err != nil {
			return err
		}
		x.cpuStart, run.queries = cpu, 0
	}
	requestsBefore, connsBefore := x.sim.Stats().Requests, x.sim.ConnectionsOpened()
	selfBefore, err := selfCPU()
	if err != nil {
		return err
	}
	started := time.Now()
	body, err := scrape(ctx, x.client, x.base+"/metrics", x.timeout, o.gzip)
	elapsed := time.Since(started)
	if err != nil {
		return fmt.Errorf("scrape %d: %w\n%s", i+1, err, x.logTail())
	}
	selfAfter, err := selfCPU()
	if err != nil {
		return err
	}
	cpuNow, err := processCPU(x.pid())
	if err != nil {
		return err
	}
	requests := x.sim.Stats().Requests - requestsBefore
	run.requests += requests
	if conns := x.sim.ConnectionsOpened() - connsBefore; i == 0 {
		run.firstConns = conns
	} else {
		run.laterConns += conns
	}
	if i > 0 || o.scrapes == 1 {
		run.simCPU += selfAfter - selfBefore
	}
	run.cpu = cpuNow - x.cpuStart
	run.queries += int(requests)
	run.scrapes = append(run.scrapes, elapsed)

	text := body
	if o.gzip {
		if text, err = gunzip(body); err != nil {
			return fmt.Errorf("scrape %d: %w", i+1, err)
		}
	}
	const queryPhase = `agentgateway_gateway_scrape_duration_seconds{gateway="main"}`
	values := sampleValues(text, "go_memstats_heap_inuse_bytes", "go_goroutines", queryPhase)
	run.queryPhase = append(run.queryPhase, time.Duration(values[queryPhase]*float64(time.Second)))
	run.agentsUp = append(run.agentsUp, countAgentsUp(text))
	run.endedCalls = append(run.endedCalls, sumSamples(text, "agentgateway_call_leave_reason_total{"))
	run.heap = append(run.heap, values["go_memstats_heap_inuse_bytes"])
	run.goroutines = append(run.goroutines, values["go_goroutines"])
	rss, _, err := processMemory(x.pid())
	if err != nil {
		return err
	}
	run.rss = append(run.rss, float64(rss))
	run.bodyBytes, run.textBytes, run.series = len(body), len(text), countSamples(text)
	if o.soak && (i+1)%100 == 0 {
		fmt.Printf("  ... %d scrapes, last %s, RSS %s, heap in use %s\n", i+1, elapsed.Round(time.Millisecond),
			mib(rss), mib(int64(values["go_memstats_heap_inuse_bytes"])))
	}
	return nil
}

// finish reads the peak RSS, stops the exporter and returns the run.
func (x *exporterProc) finish() (*exporterRun, error) {
	_, peak, err := processMemory(x.pid())
	if err != nil {
		return nil, err
	}
	x.run.peakRSS = peak
	x.stop()
	if cpu, ok := exitedCPU(x.cmd); ok {
		x.run.totalCPU = cpu
	}
	return &x.run, nil
}

// prometheusAccept is the Accept header of a Prometheus 3 scrape.
const prometheusAccept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5," +
	"application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3," +
	"text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

func scrape(ctx context.Context, client *http.Client, url string, timeout time.Duration, gzipped bool) ([]byte, error) {
	ans, err := httpcall.Do(ctx, client, httpcall.Request{URL: url}, func(h http.Header) {
		h.Set("Accept", prometheusAccept)
		if gzipped {
			h.Set("Accept-Encoding", "gzip")
		}
		h.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	})
	if err != nil {
		return nil, err
	}
	if err := ans.StatusError(); err != nil {
		return nil, err
	}
	if gzipped && ans.Header.Get("Content-Encoding") != "gzip" {
		return nil, errors.New("answer not gzip-compressed")
	}
	return ans.Body, nil
}

func gunzip(body []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func countAgentsUp(text []byte) int {
	n := 0
	for line := range bytes.Lines(text) {
		if bytes.HasPrefix(line, []byte("agentgateway_agent_up{")) && bytes.HasSuffix(bytes.TrimSpace(line), []byte(" 1")) {
			n++
		}
	}
	return n
}

// sumSamples adds up the values of the samples whose line starts with prefix.
func sumSamples(text []byte, prefix string) float64 {
	sum := 0.0
	for line := range bytes.Lines(text) {
		if !bytes.HasPrefix(line, []byte(prefix)) {
			continue
		}
		line = bytes.TrimSpace(line)
		if i := bytes.LastIndexByte(line, ' '); i >= 0 {
			if v, err := strconv.ParseFloat(string(line[i+1:]), 64); err == nil {
				sum += v
			}
		}
	}
	return sum
}

func countSamples(text []byte) int {
	n := 0
	for line := range bytes.Lines(text) {
		if len(line) > 1 && line[0] != '#' {
			n++
		}
	}
	return n
}

// sampleValues picks the values of samples by their full name and labels.
func sampleValues(text []byte, names ...string) map[string]float64 {
	values := map[string]float64{}
	for _, name := range names {
		i := bytes.Index(text, []byte("\n"+name+" "))
		if i < 0 {
			continue
		}
		rest := text[i+len(name)+2:]
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			rest = rest[:j]
		}
		if v, err := strconv.ParseFloat(string(rest), 64); err == nil {
			values[name] = v
		}
	}
	return values
}

func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("exporter exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within a minute", url)
		}
	}
}
