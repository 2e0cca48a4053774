// Command capprobe is the process the ground-truth harness (test/runtime)
// runs inside containers. It prints, as one JSON line on stdout, what the
// kernel gave it: the capability sets and NoNewPrivs from /proc/self/status
// (proc(5)), and its user IDs.
//
//	capprobe                 print this process's status
//	capprobe exec PATH       exec PATH (another capprobe, e.g. the setuid-root
//	                         or file-capability copy) with no arguments, so the
//	                         printed status is what that exec produced
//	capprobe pause           sleep until SIGTERM or SIGINT (the pod sandbox's
//	                         pause process)
//
// It is built with CGO_ENABLED=0, so it runs from an image with nothing else
// in it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Status is what the harness reads back. The Cap* fields are the hex masks
// exactly as /proc/self/status prints them.
type Status struct {
	CapInh     string `json:"capInh"`
	CapPrm     string `json:"capPrm"`
	CapEff     string `json:"capEff"`
	CapBnd     string `json:"capBnd"`
	CapAmb     string `json:"capAmb"`
	NoNewPrivs string `json:"noNewPrivs"`
	// Uid is the line's four IDs: real, effective, saved, filesystem.
	Uid string `json:"uid"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "capprobe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 0:
		return probe()
	case len(args) == 2 && args[0] == "exec":
		return syscall.Exec(args[1], []string{args[1]}, os.Environ())
	case len(args) == 1 && args[0] == "pause":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		<-c
		return nil
	}
	return fmt.Errorf("usage: capprobe [exec PATH | pause], got %q", args)
}

func probe() error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return err
	}
	defer f.Close()
	var s Status
	fields := map[string]*string{
		"CapInh": &s.CapInh, "CapPrm": &s.CapPrm, "CapEff": &s.CapEff,
		"CapBnd": &s.CapBnd, "CapAmb": &s.CapAmb, "NoNewPrivs": &s.NoNewPrivs, "Uid": &s.Uid,
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if p := fields[k]; ok && p != nil {
			*p = strings.Join(strings.Fields(v), " ")
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(s)
}
