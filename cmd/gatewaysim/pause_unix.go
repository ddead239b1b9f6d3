//go:build unix

package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// pauseOnSignals lets a demo or a test stop the session owner's pushes with SIGUSR1 and resume them
// with SIGUSR2, while it keeps the agents signed in: the exporter then sees the Guid supply stop, as
// when a site's session owner fails to deliver, without the gateway going away.
func pauseOnSignals(ctx context.Context, pushes pausable, logger *slog.Logger) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		defer signal.Stop(signals)
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-signals:
				if sig == syscall.SIGUSR1 {
					pushes.PausePushes()
					logger.Info("Guid pushes paused (SIGUSR1); SIGUSR2 resumes them")
				} else {
					pushes.ResumePushes()
					logger.Info("Guid pushes resumed (SIGUSR2)")
				}
			}
		}
	}()
}
