//go:build !linux

package main

import (
	"errors"
	"os/exec"
	"time"
)

var errNotLinux = errors.New("the load test reads /proc and getrusage: it runs on Linux only")

func processCPU(int) (time.Duration, error) { return 0, errNotLinux }

func processMemory(int) (rss, peak int64, err error) { return 0, 0, errNotLinux }

func selfCPU() (time.Duration, error) { return 0, errNotLinux }

func exitedCPU(*exec.Cmd) (time.Duration, bool) { return 0, false }

func terminate(cmd *exec.Cmd, done <-chan struct{}) {
	_ = cmd.Process.Kill()
	<-done
}
