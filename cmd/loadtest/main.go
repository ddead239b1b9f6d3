// Command loadtest measures the exporter against a simulated CC-Gateway and
// checks the performance targets: CPU per agent query against a bare HTTP
// client, wall time per scrape, peak RSS, flat memory over many scrapes and
// keep-alive connection reuse.
//
//	go run ./cmd/loadtest --agents=1000 --latency=20ms --scrapes=20 --concurrency=64
//	go run ./cmd/loadtest --agents=1000 --soak
//
// The simulator runs inside this process on 127.0.0.1. The exporter is the
// real binary, built from this module and run as a child process, so the
// CPU time and memory measured are its own. The bare client runs as a
// second child process for the same reason. It exits with status 1 when a
// target is missed.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// Bounds on what one run may ask for.
const (
	maxAgents      = 20_000 // the simulator keeps about 65 KB per agent
	maxScrapes     = 10_000
	maxConcurrency = 1024
	firstAgentID   = 1001
	simulatorSeed  = 1
)

// The targets of issue 5.
const (
	cpuRatioLimit    = 1.3
	wallFactor       = 1.15
	wallSlack        = 100 * time.Millisecond
	peakRSSLimit     = 60 << 20
	peakRSSAtAgents  = 10_000
	memoryGrowth     = 1.10
	memorySlack      = 2 << 20
	newConnsPerLimit = 0.1
)

type options struct {
	agents, scrapes, concurrency int
	latency                      time.Duration
	soak                         bool
	gzip                         bool
	exporterBin                  string
	maxDuration                  time.Duration
	keep                         bool
	cpuProfile                   string
}

func main() {
	// The bare client is this same program, re-run as a child.
	if len(os.Args) > 1 && os.Args[1] == bareClientArg {
		os.Exit(bareClientMain(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:]))
}

const bareClientArg = "--bare-client-child"

func bareClientMain(args []string) int {
	fs := flag.NewFlagSet("loadtest bare client", flag.ContinueOnError)
	configFile := fs.String("config", "", "agents.yml")
	rounds := fs.Int("rounds", 1, "rounds")
	concurrency := fs.Int("concurrency", 1, "concurrency")
	timeout := fs.Duration("timeout", 5*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := runBareClient(*configFile, *rounds, *concurrency, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bare client:", err)
		return 1
	}
	return 0
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.IntVar(&o.agents, "agents", 1000, "simulated agents, all on one gateway")
	fs.DurationVar(&o.latency, "latency", 20*time.Millisecond, "latency the simulator adds to every answer (--soak: 2ms)")
	fs.IntVar(&o.scrapes, "scrapes", 20, "scrapes of /metrics (--soak: 1000)")
	fs.IntVar(&o.concurrency, "concurrency", 64, "the gateway's concurrency setting, and the bare client's")
	fs.BoolVar(&o.soak, "soak", false, "many scrapes at low latency with fast call churn; checks that memory stays flat")
	fs.BoolVar(&o.gzip, "gzip", true, "ask for a gzip-compressed answer, as Prometheus does")
	fs.StringVar(&o.exporterBin, "exporter", "", "exporter binary to run (default: go build this module's main package)")
	fs.DurationVar(&o.maxDuration, "max-duration", 20*time.Minute, "abort the run after this long")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configuration, exporter log)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (the simulator, mostly) to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.soak {
		if !set["scrapes"] {
			o.scrapes = 1000
		}
		if !set["latency"] {
			o.latency = 2 * time.Millisecond
		}
	}
	if o.agents < 1 || o.agents > maxAgents || o.scrapes < 1 || o.scrapes > maxScrapes ||
		o.concurrency < 1 || o.concurrency > maxConcurrency || o.latency < 0 || o.latency > 10*time.Second {
		fmt.Fprintf(os.Stderr, "loadtest: need 1 ≤ agents ≤ %d, 1 ≤ scrapes ≤ %d, 1 ≤ concurrency ≤ %d, 0 ≤ latency ≤ 10s\n",
			maxAgents, maxScrapes, maxConcurrency)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.maxDuration)
	defer cancel()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	passed, err := loadTest(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 2
	}
	if !passed {
		return 1
	}
	return 0
}

// expectedRound is the time one pass over every agent needs when only the
// concurrency limit and the gateway's latency count.
func expectedRound(o options) time.Duration {
	rounds := (o.agents + o.concurrency - 1) / o.concurrency
	return time.Duration(rounds) * o.latency
}

func loadTest(ctx context.Context, o options) (bool, error) {
	dir, err := os.MkdirTemp("", "agentgateway-loadtest-")
	if err != nil {
		return false, err
	}
	if o.keep {
		defer fmt.Printf("kept %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	mode := ""
	if o.soak {
		mode = ", soak"
	}
	fmt.Printf("loadtest: %d agents, %s latency, concurrency %d, %d scrapes%s (%s, %s/%s, %d CPUs)\n",
		o.agents, o.latency, o.concurrency, o.scrapes, mode, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())

	simOpts := simulator.Options{Agents: o.agents, FirstAgentID: firstAgentID, Seed: simulatorSeed, Latency: o.latency}
	if o.soak {
		// Calls every few seconds, so a soak run sees thousands of them end.
		simOpts.IdleMean, simOpts.QueueMean, simOpts.RingMean = 2*time.Second, 500*time.Millisecond, 500*time.Millisecond
		simOpts.TalkMean, simOpts.WrapUpMean = 2*time.Second, 300*time.Millisecond
	}
	sim, err := simulator.Start("127.0.0.1:0", simOpts)
	if err != nil {
		return false, err
	}
	defer sim.Close()
	configFile := filepath.Join(dir, "agents.yml")
	if err := os.WriteFile(configFile, agentsYAML(sim, o), 0o600); err != nil {
		return false, err
	}
	fmt.Printf("simulator: %s, in this process\n", sim.URL())

	bin := o.exporterBin
	if bin == "" {
		if bin, err = buildExporter(ctx, dir); err != nil {
			return false, err
		}
	}

	var bare *bareResult
	if !o.soak {
		if bare, err = runBareChild(ctx, o, configFile, sim); err != nil {
			return false, err
		}
	}
	ex, err := runExporter(ctx, o, bin, dir, configFile, sim)
	if err != nil {
		return false, err
	}
	return report(o, bare, ex), nil
}

// agentsYAML is the exporter's configuration: one gateway, every simulated
// agent with its Guid.
func agentsYAML(sim *simulator.Server, o options) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "gateways:\n  - name: main\n    url: %s\n    timeout: 5s\n    concurrency: %d\n    include_last_call: true\n    agents:\n",
		sim.URL(), o.concurrency)
	for _, id := range sim.AgentIDs() {
		fmt.Fprintf(&b, "      - id: %q\n        guid: %q\n", id, sim.Guid(id))
	}
	return b.Bytes()
}

func buildExporter(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", errors.New("run the load test inside the exporter's module, or pass --exporter")
	}
	bin := filepath.Join(dir, "agentgateway_exporter")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".") //nolint:gosec // a temporary path of our own
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	fmt.Printf("exporter: built from %s\n", root)
	return bin, nil
}

func runBareChild(ctx context.Context, o options, configFile string, sim *simulator.Server) (*bareResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	requestsBefore, connsBefore := sim.Stats().Requests, sim.ConnectionsOpened()
	selfBefore, err := selfCPU()
	if err != nil {
		return nil, err
	}
	//nolint:gosec // this program, re-run as the bare client
	cmd := exec.CommandContext(ctx, self, bareClientArg, "-config="+configFile, "-rounds="+strconv.Itoa(o.scrapes),
		"-concurrency="+strconv.Itoa(o.concurrency), "-timeout=5s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bare client: %w\n%s", err, stderr.Bytes())
	}
	selfAfter, err := selfCPU()
	if err != nil {
		return nil, err
	}
	var res bareResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("bare client output: %w", err)
	}
	if res.Errors > 0 {
		return nil, fmt.Errorf("%w: %d of %d, first: %s", errBareFailed, res.Errors, o.agents*o.scrapes, res.FirstError)
	}
	fmt.Printf("\nbare client (child process %d): %d rounds of %d GETs + encoding/json decodes, concurrency %d\n",
		cmd.ProcessState.Pid(), o.scrapes, o.agents, o.concurrency)
	fmt.Printf("  wall per round      %s\n", durationStats(res.Rounds))
	fmt.Printf("  CPU per query       %s   (%s over %d queries)\n", perQuery(res.CPU, res.Queries), res.CPU.Round(time.Millisecond), res.Queries)
	requests := sim.Stats().Requests - requestsBefore
	fmt.Printf("  requests            %d at the simulator, %d new connections\n", requests, sim.ConnectionsOpened()-connsBefore)
	fmt.Printf("  simulator CPU       %s per request (this process, all rounds)\n", perQuery(selfAfter-selfBefore, int(requests)))
	return &res, nil
}

// exporterRun is what was measured of the exporter.
type exporterRun struct {
	scrapes          []time.Duration
	cpu              time.Duration // over scrapes 2..R (all when R = 1)
	queries          int
	totalCPU         time.Duration // over the whole life of the process, from wait4
	peakRSS          int64         // VmHWM
	requests         int64
	firstConns       int64
	laterConns       int64
	agentsUp         []int // agents with agent_up 1, per scrape
	bodyBytes        int   // size of the last answer as sent
	textBytes        int   // and uncompressed
	series           int   // samples in the last answer
	heap, rss, gorts []float64
	// queryPhase is the exporter's own agentgateway_gateway_scrape_duration_seconds.
	queryPhase []time.Duration
	// simCPU is this process's CPU time while scrapes were in flight: the
	// simulator's work, plus reading the answers.
	simCPU time.Duration
}

func runExporter(ctx context.Context, o options, bin, dir, configFile string, sim *simulator.Server) (*exporterRun, error) {
	addr, err := freeAddr(ctx)
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "exporter.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	//nolint:gosec // the exporter binary is the one built above or named by --exporter
	cmd := exec.CommandContext(ctx, bin, "--config.file="+configFile, "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			terminate(cmd, exited)
		}
	}
	defer stop()
	logTail := func() string {
		raw, _ := os.ReadFile(logFile.Name())
		if len(raw) > 2000 {
			raw = raw[len(raw)-2000:]
		}
		return string(raw)
	}

	base := "http://" + addr
	if err := waitReady(ctx, base+"/-/healthy", exited); err != nil {
		return nil, fmt.Errorf("exporter did not start: %w\n%s", err, logTail())
	}
	pid := cmd.Process.Pid
	encoding := ""
	if o.gzip {
		encoding = ", gzip"
	}
	fmt.Printf("\nexporter (child process %d): %d scrapes of /metrics, text format%s\n", pid, o.scrapes, encoding)

	timeout := max(10*time.Second, 2*expectedRound(o)+5*time.Second)
	client := &http.Client{Timeout: timeout + 10*time.Second, Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()

	run := &exporterRun{}
	requestsBefore := sim.Stats().Requests
	connsBefore := sim.ConnectionsOpened()
	var cpuStart time.Duration
	for i := range o.scrapes {
		if i == 1 || o.scrapes == 1 {
			if cpuStart, err = processCPU(pid); err != nil {
				return nil, err
			}
			run.queries = 0
		}
		if i == 1 {
			run.firstConns = sim.ConnectionsOpened() - connsBefore
		}
		selfBefore, err := selfCPU()
		if err != nil {
			return nil, err
		}
		started := time.Now()
		body, err := scrape(ctx, client, base+"/metrics", timeout, o.gzip)
		elapsed := time.Since(started)
		if err != nil {
			return nil, fmt.Errorf("scrape %d: %w\n%s", i+1, err, logTail())
		}
		selfAfter, err := selfCPU()
		if err != nil {
			return nil, err
		}
		if i > 0 || o.scrapes == 1 {
			run.simCPU += selfAfter - selfBefore
		}
		cpuNow, err := processCPU(pid)
		if err != nil {
			return nil, err
		}
		run.scrapes = append(run.scrapes, elapsed)
		run.queries += o.agents
		text := body
		if o.gzip {
			if text, err = gunzip(body); err != nil {
				return nil, fmt.Errorf("scrape %d: %w", i+1, err)
			}
		}
		values := sampleValues(text, "go_memstats_heap_inuse_bytes", "go_goroutines", `agentgateway_gateway_scrape_duration_seconds{gateway="main"}`)
		run.queryPhase = append(run.queryPhase, time.Duration(values[`agentgateway_gateway_scrape_duration_seconds{gateway="main"}`]*float64(time.Second)))
		run.agentsUp = append(run.agentsUp, countAgentsUp(text))
		run.heap = append(run.heap, values["go_memstats_heap_inuse_bytes"])
		run.gorts = append(run.gorts, values["go_goroutines"])
		rss, _, err := processMemory(pid)
		if err != nil {
			return nil, err
		}
		run.rss = append(run.rss, float64(rss))
		run.bodyBytes, run.textBytes, run.series = len(body), len(text), countSamples(text)
		run.cpu = cpuNow - cpuStart
		if o.soak && (i+1)%100 == 0 {
			fmt.Printf("  ... %d scrapes, last %s, RSS %s, heap in use %s\n", i+1, elapsed.Round(time.Millisecond),
				mib(rss), mib(int64(run.heap[i])))
		}
	}
	if o.scrapes == 1 {
		run.firstConns = sim.ConnectionsOpened() - connsBefore
	}
	run.laterConns = sim.ConnectionsOpened() - connsBefore - run.firstConns
	run.requests = sim.Stats().Requests - requestsBefore
	if _, run.peakRSS, err = processMemory(pid); err != nil {
		return nil, err
	}
	stop()
	if cpu, ok := exitedCPU(cmd); ok {
		run.totalCPU = cpu
	}
	return run, nil
}

// prometheusAccept is the Accept header of a Prometheus 3 scrape.
const prometheusAccept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5," +
	"application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3," +
	"text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

func scrape(ctx context.Context, client *http.Client, url string, timeout time.Duration, gzipped bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", prometheusAccept)
	if gzipped {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d: %.200s", resp.StatusCode, body)
	}
	if gzipped && resp.Header.Get("Content-Encoding") != "gzip" {
		return nil, errors.New("answer not gzip-compressed")
	}
	return body, nil
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

func countSamples(text []byte) int {
	n := 0
	for line := range bytes.Lines(text) {
		if len(line) > 1 && line[0] != '#' {
			n++
		}
	}
	return n
}

// sampleValues picks the values of unlabelled samples by name.
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

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(ctx context.Context) (string, error) {
	l, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func report(o options, bare *bareResult, ex *exporterRun) bool {
	fmt.Printf("  wall per scrape     %s\n", durationStats(ex.scrapes))
	fmt.Printf("  of which querying   %s   (the exporter's agentgateway_gateway_scrape_duration_seconds)\n", durationStats(ex.queryPhase))
	fmt.Printf("  CPU per query       %s   (%s over %d queries; whole process life %s)\n",
		perQuery(ex.cpu, ex.queries), ex.cpu.Round(time.Millisecond), ex.queries, ex.totalCPU.Round(time.Millisecond))
	fmt.Printf("  peak RSS            %s   (VmHWM; Go heap in use after the last scrape %s)\n", mib(ex.peakRSS), mib(int64(ex.heap[len(ex.heap)-1])))
	fmt.Printf("  requests            %d at the simulator (%d per scrape)\n", ex.requests, ex.requests/int64(o.scrapes))
	later := 0.0
	if o.scrapes > 1 {
		later = float64(ex.laterConns) / float64(o.scrapes-1)
	}
	fmt.Printf("  new connections     %d in the first scrape, %.2f per scrape after it (%d in all)\n", ex.firstConns, later, ex.laterConns)
	fmt.Printf("  answer              %d samples, %s as text, %s as sent\n", ex.series, kib(ex.textBytes), kib(ex.bodyBytes))
	fmt.Printf("  simulator CPU       %s per request (this process while scrapes were in flight)\n", perQuery(ex.simCPU, ex.queries))
	if _, peak, err := processMemory(os.Getpid()); err == nil {
		fmt.Printf("\nload generator: peak RSS %s (this process: the simulator's %d agents, the answers read)\n", mib(peak), o.agents)
	}

	fmt.Println("\nmethod:")
	fmt.Println("  The simulator runs in this process; the exporter and the bare client are separate child")
	fmt.Println("  processes, so neither CPU figure includes the simulator's or this program's work.")
	fmt.Println("  Exporter CPU: utime+stime of /proc/PID/stat (all threads) read after the first scrape and")
	fmt.Println("  after the last, divided by the queries in between; the first scrape (connections, state)")
	fmt.Println("  is left out, and the bare client's first round likewise. Bare client CPU: getrusage(RUSAGE_SELF)")
	fmt.Println("  in the child around the same rounds. Wall times are measured here around each HTTP request.")
	fmt.Println("  Peak RSS is VmHWM of /proc/PID/status just before the exporter is stopped (wait4's")
	fmt.Println("  ru_maxrss is not used: it also counts the image of this process that the child was forked from).")

	fmt.Println("\ntargets:")
	ok := true
	check := func(pass bool, format string, args ...any) {
		verdict := "PASS"
		if !pass {
			verdict, ok = "FAIL", false
		}
		fmt.Printf("  %s  %s\n", verdict, fmt.Sprintf(format, args...))
	}
	skip := func(format string, args ...any) { fmt.Printf("  n/a   %s\n", fmt.Sprintf(format, args...)) }

	allUp := true
	for _, n := range ex.agentsUp {
		allUp = allUp && n == o.agents
	}
	check(allUp && ex.requests == int64(o.agents*o.scrapes), "every scrape queried and reported all %d agents (%d requests, agents up per scrape %d..%d)",
		o.agents, ex.requests, slices.Min(ex.agentsUp), slices.Max(ex.agentsUp))

	exporterCPU := perQueryDuration(ex.cpu, ex.queries)
	if bare != nil {
		bareCPU := perQueryDuration(bare.CPU, bare.Queries)
		check(float64(exporterCPU) <= cpuRatioLimit*float64(bareCPU), "CPU per query %s ≤ %.1f × bare client %s = %s (ratio %.2f)",
			exporterCPU.Round(100*time.Nanosecond), cpuRatioLimit, bareCPU.Round(100*time.Nanosecond),
			time.Duration(cpuRatioLimit*float64(bareCPU)).Round(100*time.Nanosecond), float64(exporterCPU)/float64(bareCPU))
		if ex.cpu < time.Second {
			fmt.Printf("        (the exporter used only %s over the measured scrapes; /proc counts in 10 ms ticks,\n"+
				"         so this comparison needs more agents or scrapes to mean much)\n", ex.cpu)
		}
	} else {
		skip("CPU per query: no bare client run in --soak")
	}

	steady := ex.scrapes
	if len(steady) > 1 {
		steady = steady[1:]
	}
	wallLimit := time.Duration(wallFactor*float64(expectedRound(o))) + wallSlack
	if o.soak {
		skip("wall per scrape: --soak runs at a latency where CPU, not the gateway, sets the pace (mean %s)", mean(steady).Round(time.Millisecond))
	} else {
		check(mean(steady) <= wallLimit, "wall per scrape %s (mean after the first) ≤ %.2f × ceil(%d/%d) × %s + %s = %s",
			mean(steady).Round(time.Millisecond), wallFactor, o.agents, o.concurrency, o.latency, wallSlack, wallLimit.Round(time.Millisecond))
		if bare != nil && len(bare.Rounds) > 0 {
			bareSteady := bare.Rounds
			if len(bareSteady) > 1 {
				bareSteady = bareSteady[1:]
			}
			fmt.Printf("        (for comparison, the bare client's mean round took %s)\n", mean(bareSteady).Round(time.Millisecond))
		}
	}

	if o.agents <= peakRSSAtAgents {
		check(ex.peakRSS <= peakRSSLimit, "peak RSS %s ≤ %s (the limit for %d agents, applied to any run up to that)",
			mib(ex.peakRSS), mib(peakRSSLimit), peakRSSAtAgents)
	} else {
		skip("peak RSS %s: the %s limit is set for %d agents", mib(ex.peakRSS), mib(peakRSSLimit), peakRSSAtAgents)
	}

	if o.scrapes > 1 {
		check(later <= newConnsPerLimit, "keep-alive: %.2f new connections per scrape after the first ≤ %.1f", later, newConnsPerLimit)
	} else {
		skip("keep-alive: needs more than one scrape")
	}

	if o.soak {
		// Warm-up is the first 10%; memory right after it is compared with
		// memory over the last 10%, by medians so one GC cycle's timing
		// does not decide.
		n := len(ex.heap)
		w := max(1, n/10)
		if n >= 3*w {
			for _, m := range []struct {
				name   string
				values []float64
			}{{"heap in use", ex.heap}, {"RSS", ex.rss}} {
				early, late := median(m.values[w:2*w]), median(m.values[n-w:])
				limit := memoryGrowth*early + memorySlack
				check(late <= limit, "steady-state %s: median of scrapes %d-%d %s, of the last %d %s ≤ %.2f × early + %s = %s",
					m.name, w+1, 2*w, mib(int64(early)), w, mib(int64(late)), memoryGrowth, mib(memorySlack), mib(int64(limit)))
			}
			early, late := median(ex.gorts[w:2*w]), median(ex.gorts[n-w:])
			check(late <= early+2, "goroutines: %.0f after warm-up, %.0f at the end", early, late)
		} else {
			skip("steady-state memory: too few scrapes")
		}
	}
	return ok
}

func perQueryDuration(total time.Duration, queries int) time.Duration {
	if queries == 0 {
		return 0
	}
	return total / time.Duration(queries)
}

func perQuery(total time.Duration, queries int) string {
	return perQueryDuration(total, queries).Round(100 * time.Nanosecond).String()
}

func durationStats(ds []time.Duration) string {
	steady := ds
	if len(steady) > 1 {
		steady = steady[1:]
	}
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("mean %s  min %s  max %s  after the first; first %s", r(mean(steady)), r(slices.Min(steady)), r(slices.Max(steady)), r(ds[0]))
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func median(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b int) string { return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10)) }
