// Package logging builds the exporter's go-kit logger from the
// --log.level and --log.format flags, and bridges it to the *slog.Logger
// that prometheus/exporter-toolkit expects.
package logging

import (
	"io"
	"log/slog"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	sloggokit "github.com/tjhop/slog-gokit"
)

// Levels and formats accepted by the flags, as in Prometheus' own servers.
var (
	Levels  = []string{"debug", "info", "warn", "error"}
	Formats = []string{"logfmt", "json"}
)

// Config holds the flag values.
type Config struct {
	Level  string
	Format string
}

// AddFlags registers --log.level and --log.format.
func AddFlags(app *kingpin.Application) *Config {
	cfg := &Config{}
	app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").
		Default("info").EnumVar(&cfg.Level, Levels...)
	app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").
		Default("logfmt").EnumVar(&cfg.Format, Formats...)
	return cfg
}

// New returns the leveled go-kit logger, with a timestamp and caller, and
// the same output as a *slog.Logger for libraries that take one (the web
// server of exporter-toolkit). Both write one format with one key set, in
// one order: level, ts, caller, msg, then the record's own keys.
func New(cfg *Config, w io.Writer) (log.Logger, *slog.Logger) {
	w = log.NewSyncWriter(w)
	var logger log.Logger
	if cfg.Format == "json" {
		logger = log.NewJSONLogger(w)
	} else {
		logger = log.NewLogfmtLogger(w)
	}
	logger = level.NewFilter(logger, levelOption(cfg.Level))
	bridged := slog.New(sloggokit.NewGoKitHandler(sameKeys(logger), slog.LevelDebug))
	return log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller), bridged
}

// sameKeys puts the bridge's records in the exporter's form: the bridge
// names its timestamp "time" (slog's key), in local time, after the caller;
// the exporter's own lines have level, then ts in UTC, then caller. A
// record without a time (slog leaves it out when it is zero) gets none.
func sameKeys(next log.Logger) log.Logger {
	return log.LoggerFunc(func(keyvals ...any) error {
		out := make([]any, 0, len(keyvals))
		var lead [3][2]any // level, ts, caller
		for i := 0; i+1 < len(keyvals); i += 2 {
			key, value := keyvals[i], keyvals[i+1]
			switch key {
			case slog.TimeKey:
				if t, ok := value.(time.Time); ok {
					value = t.UTC().Format(time.RFC3339Nano)
				}
				lead[1] = [2]any{"ts", value}
			case "caller":
				lead[2] = [2]any{key, value}
			case level.Key():
				lead[0] = [2]any{key, value}
			default:
				out = append(out, key, value)
			}
		}
		head := make([]any, 0, 6+len(out))
		for _, kv := range lead {
			if kv[0] != nil {
				head = append(head, kv[0], kv[1])
			}
		}
		return next.Log(append(head, out...)...)
	})
}

func levelOption(name string) level.Option {
	switch name {
	case "debug":
		return level.AllowDebug()
	case "warn":
		return level.AllowWarn()
	case "error":
		return level.AllowError()
	default:
		return level.AllowInfo()
	}
}
