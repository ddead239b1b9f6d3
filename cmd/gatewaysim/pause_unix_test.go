//go:build unix

package main

import (
	"context"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"
)

// recordingPushes notes each pause and resume, in order.
type recordingPushes chan string

func (r recordingPushes) PausePushes()  { r <- "pause" }
func (r recordingPushes) ResumePushes() { r <- "resume" }

func TestSignalsPauseAndResumePushes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(recordingPushes, 2)
	pauseOnSignals(ctx, calls, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, step := range []struct {
		sig  syscall.Signal
		want string
	}{{syscall.SIGUSR1, "pause"}, {syscall.SIGUSR2, "resume"}} {
		if err := syscall.Kill(syscall.Getpid(), step.sig); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-calls:
			if got != step.want {
				t.Errorf("after %v: %s, want %s", step.sig, got, step.want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s within 30s of %v", step.want, step.sig)
		}
	}
}
