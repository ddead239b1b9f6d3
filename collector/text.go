package collector

import (
	"bufio"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The text format is what Prometheus asks for unless it wants native
// histograms, and at ten thousand agents a scrape is over a hundred
// thousand series. Building them all as metric objects for a registry
// costs more CPU than the HTTP requests behind them and tens of megabytes
// per scrape, so the handler writes the per-agent families straight out,
// family by family, in the order and form a registry and promhttp would
// produce (TestTextMatchesRegistry holds the two to the same bytes). The
// few other families (gateway gauges, histograms, the exporter's own
// metrics) still go through a registry and expfmt. Other formats take the
// registry path for everything.

// serveText answers one scrape in the text format negotiated as format.
// Accept-Encoding is negotiated, and the answer compressed, by
// klauspost/compress's gzhttp (the library promhttp's zstd support is
// built on): gzip or zstd at their fastest levels, identity otherwise.
func (e *Exporter) serveText(w http.ResponseWriter, r *http.Request, sc *scrape, own prometheus.Gatherer, format expfmt.Format) {
	result := sc.run()
	compressText(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		w.Header().Set("Content-Type", string(format))
		var wanted map[string]bool
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			wanted = map[string]bool{}
			for _, name := range names {
				wanted[name] = true
			}
		}
		gatherErr, err := writeText(w, result, own, format, wanted)
		if gatherErr != nil {
			promhttpLogger{e}.Println("error gathering metrics:", gatherErr)
		}
		if err != nil {
			promhttpLogger{e}.Println("error encoding and sending metric family:", err)
		}
	})).ServeHTTP(w, r)
}

// compressText wraps the text answer's handler. At ten thousand agents the
// answer is some 20 MB of text, which gzip's default level (promhttp's)
// takes nearly three times as long to compress as its fastest, for an
// answer only about 15% smaller. gzip is stateless (each 32 KiB write
// compressed on its own): at that size it takes half the time of the
// fastest level and a third of its memory (under 0.3 MiB, held while every
// agent's answer is), for an answer some 12% larger.
var compressText = func() func(http.Handler) http.HandlerFunc {
	wrap, err := gzhttp.NewWrapper(gzhttp.CompressionLevel(gzip.StatelessCompression), gzhttp.ZstdCompressionLevel(int(zstd.SpeedFastest)))
	if err != nil {
		panic(err) // fixed, valid options
	}
	return wrap
}()

// writeText writes a scrape's result and the exporter's own metrics in the
// text format, families sorted by name, only those in wanted unless it is
// nil. Errors gathering the exporter's own metrics do not stop it.
func writeText(out io.Writer, result *scrapeResult, own prometheus.Gatherer, format expfmt.Format, wanted map[string]bool) (gatherErr, err error) {
	gathered, gatherErr := gatherSmall(result, own)
	bw := textWriters.Get().(*bufio.Writer)
	bw.Reset(out)
	defer func() {
		bw.Reset(io.Discard)
		textWriters.Put(bw)
	}()
	tw := textWriter{w: bw, result: result, refs: result.refs(true), now: result.now}
	enc := expfmt.NewEncoder(bw, format)
	families := agentFamilies
	for len(gathered) > 0 || len(families) > 0 {
		if len(families) == 0 || (len(gathered) > 0 && gathered[0].GetName() < families[0].name) {
			if wanted == nil || wanted[gathered[0].GetName()] {
				err = enc.Encode(gathered[0])
			}
			gathered = gathered[1:]
		} else {
			if wanted == nil || wanted[families[0].name] {
				err = tw.family(families[0])
			}
			families = families[1:]
		}
		if err != nil {
			return gatherErr, err
		}
	}
	return gatherErr, bw.Flush()
}

// gatherSmall gathers the scrape's families that are not per agent, and the
// exporter's own, sorted by name.
func gatherSmall(result *scrapeResult, own prometheus.Gatherer) ([]*dto.MetricFamily, error) {
	registry := prometheus.NewRegistry()
	registry.MustRegister(gatewayCollector{result})
	gatherers := prometheus.Gatherers{registry}
	if own != nil {
		gatherers = append(gatherers, own)
	}
	return gatherers.Gather()
}

// gatewayCollector emits a scrape result's families that are not per agent.
type gatewayCollector struct{ r *scrapeResult }

func (gatewayCollector) Describe(chan<- *prometheus.Desc) {}

func (c gatewayCollector) Collect(ch chan<- prometheus.Metric) { c.r.collectGateways(ch) }

var textWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(io.Discard, 32<<10) }}

// textWriter writes per-agent families in the text exposition format.
type textWriter struct {
	w      *bufio.Writer
	result *scrapeResult
	refs   []viewRef
	// group are the views of the agents sharing an id, being written.
	group []agentView
	now   time.Time
	buf   sampleBuf
	line  []byte
}

// family writes one family: its HELP and TYPE lines and its samples sorted
// by label values, or nothing when no agent has a sample.
func (t *textWriter) family(f agentFamily) error {
	header := false
	for i := 0; i < len(t.refs); {
		// Agents sharing an id (in different gateways) are sorted together.
		t.group = append(t.group[:0], t.result.view(t.refs[i]))
		j := i + 1
		for j < len(t.refs) && t.result.id(t.refs[j]) == t.group[0].id {
			t.group = append(t.group, t.result.view(t.refs[j]))
			j++
		}
		t.buf.samples = t.buf.samples[:0]
		for k := range t.group {
			t.buf.view = &t.group[k]
			f.samples(t.buf.view, t.now, &t.buf)
		}
		i = j
		if len(t.buf.samples) == 0 {
			continue
		}
		if !header {
			header = true
			if _, err := t.w.WriteString(f.header); err != nil {
				return err
			}
		}
		less := func(a, b sample) int { return compareSamples(f.family, &a, &b) }
		if !slices.IsSortedFunc(t.buf.samples, less) {
			slices.SortFunc(t.buf.samples, less)
		}
		for k := range t.buf.samples {
			t.line = appendSample(t.line[:0], f.family, &t.buf.samples[k])
			if _, err := t.w.Write(t.line); err != nil {
				return err
			}
		}
	}
	return nil
}

// labelValue is the value of label i (in Desc order) of a sample.
func labelValue(s *sample, i int) string {
	switch i {
	case 0:
		return s.view.gateway
	case 1:
		return s.view.id
	default:
		return s.extra[i-2]
	}
}

// compareSamples orders samples as the registry does: by label values in
// the order of the label names.
func compareSamples(f *family, a, b *sample) int {
	for _, i := range f.byName {
		if c := strings.Compare(labelValue(a, i), labelValue(b, i)); c != 0 {
			return c
		}
	}
	return 0
}

// appendSample appends one sample line: name{label="value",...} value.
func appendSample(line []byte, f *family, s *sample) []byte {
	line = append(line, f.name...)
	for k, i := range f.byName {
		if k == 0 {
			line = append(line, '{')
		} else {
			line = append(line, ',')
		}
		line = append(line, f.labels[i]...)
		line = append(line, '=', '"')
		line = appendLabelValue(line, labelValue(s, i))
		line = append(line, '"')
	}
	if len(f.byName) > 0 {
		line = append(line, '}')
	}
	line = append(line, ' ')
	line = appendFloat(line, s.value)
	return append(line, '\n')
}

// appendLabelValue escapes backslash, newline and double quote.
func appendLabelValue(line []byte, v string) []byte {
	plain := true
	for i := 0; i < len(v) && plain; i++ {
		plain = v[i] != '\\' && v[i] != '\n' && v[i] != '"'
	}
	if plain {
		return append(line, v...)
	}
	for i := range len(v) {
		switch c := v[i]; c {
		case '\\':
			line = append(line, '\\', '\\')
		case '\n':
			line = append(line, '\\', 'n')
		case '"':
			line = append(line, '\\', '"')
		default:
			line = append(line, c)
		}
	}
	return line
}

// appendFloat writes a value as the text format does.
func appendFloat(line []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(line, '1')
	case f == 0:
		return append(line, '0')
	case f == -1:
		return append(line, '-', '1')
	case math.IsNaN(f):
		return append(line, "NaN"...)
	case math.IsInf(f, +1):
		return append(line, "+Inf"...)
	case math.IsInf(f, -1):
		return append(line, "-Inf"...)
	default:
		return strconv.AppendFloat(line, f, 'g', -1, 64)
	}
}

// helpEscaper escapes HELP text as the text format does.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
