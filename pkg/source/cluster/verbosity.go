package cluster

import (
	"flag"
	"fmt"
	"io"
	"strconv"

	"k8s.io/klog/v2"
)

// LogRequests turns client-go's own logging on for -v N > 0, written to w
// in klog's format, as kubectl -v does: at 6 each request's verb, URL,
// status and time (client-go transport/round_trippers.go DebugWrappers),
// at 8 the bodies too. The command silences klog otherwise (main), because
// every failure reaches the user through the one error line. klog's
// settings are process-wide, which a command line is; call it before
// Connect, which builds the transports.
func LogRequests(v int, w io.Writer) error {
	if v == 0 {
		return nil
	}
	if v < 0 {
		return fmt.Errorf("-v must be 0 or more, got %d", v)
	}
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if err := fs.Set("v", strconv.Itoa(v)); err != nil {
		return err
	}
	klog.ClearLogger()
	klog.LogToStderr(false)
	klog.SetOutput(w)
	return nil
}
