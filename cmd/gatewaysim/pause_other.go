//go:build !unix

package main

import (
	"context"
	"log/slog"
)

// pauseOnSignals does nothing where there are no SIGUSR1 and SIGUSR2.
func pauseOnSignals(context.Context, pausable, *slog.Logger) {}
