// Package logging builds the exporter's go-kit logger from the
// --log.level and --log.format flags, and bridges it to the *slog.Logger
// that prometheus/exporter-toolkit expects.
package logging

import (
	"io"
	"log/slog"

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
// the same output as a *slog.Logger for libraries that take one. The slog
// bridge adds its own time and source, so it gets the undecorated logger.
func New(cfg *Config, w io.Writer) (log.Logger, *slog.Logger) {
	w = log.NewSyncWriter(w)
	var logger log.Logger
	if cfg.Format == "json" {
		logger = log.NewJSONLogger(w)
	} else {
		logger = log.NewLogfmtLogger(w)
	}
	logger = level.NewFilter(logger, levelOption(cfg.Level))
	bridged := slog.New(sloggokit.NewGoKitHandler(logger, slog.LevelDebug))
	return log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller), bridged
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
