package testserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// AuditEvent is the part of an audit.k8s.io/v1 Event that tests assert on.
// The full type lives in k8s.io/apiserver, which the root module does not
// require; unknown fields are ignored when decoding.
type AuditEvent struct {
	Level            string          `json:"level"`
	AuditID          string          `json:"auditID"`
	Stage            string          `json:"stage"`
	RequestURI       string          `json:"requestURI"`
	Verb             string          `json:"verb"`
	User             AuditUser       `json:"user"`
	ImpersonatedUser *AuditUser      `json:"impersonatedUser,omitempty"`
	UserAgent        string          `json:"userAgent"`
	ObjectRef        *AuditObjectRef `json:"objectRef,omitempty"`
	ResponseStatus   *metav1.Status  `json:"responseStatus,omitempty"`
}

// AuditUser is the authenticated identity of a request.
type AuditUser struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

// AuditObjectRef names what a resource request touched; nil for
// non-resource URLs such as /version.
type AuditObjectRef struct {
	Resource    string `json:"resource"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	APIGroup    string `json:"apiGroup"`
	APIVersion  string `json:"apiVersion"`
	Subresource string `json:"subresource"`
}

// Code is the HTTP status of the response, or 0 if the event has none.
func (e AuditEvent) Code() int32 {
	if e.ResponseStatus == nil {
		return 0
	}
	return e.ResponseStatus.Code
}

// ParseAudit decodes a JSON-lines audit log. A final line without its
// newline is an event still being written and is left for the next read;
// any other undecodable line is an error, because a test that asserts "no
// write verbs" must not pass on a log it could not read.
func ParseAudit(r io.Reader) ([]AuditEvent, error) {
	var events []AuditEvent
	br := bufio.NewReader(r)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return events, nil // drop the incomplete tail, if any
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e AuditEvent
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("audit log line %d: %w", lineNo, err)
		}
		events = append(events, e)
	}
}

// AuditOffset is the current end of the audit log. Pass it to AuditEvents to
// see only what a test did after this point, since the server is shared by
// every test in the package.
func (s *Server) AuditOffset() (int64, error) {
	fi, err := os.Stat(s.AuditLogPath)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// syncAgent marks the barrier requests that AuditEvents makes and hides.
const syncAgent = "kubectl-caps-testserver-audit-sync"

// AuditEvents returns the events logged from offset on, including those of
// every request that completed before the call.
//
// The apiserver writes an event just after the handler returns, which can be
// a moment after the client has read its response. So AuditEvents first
// sends a marked barrier request of its own and waits until that request's
// event appears: by then the events of earlier requests are written too. The
// barrier's own events are left out of the result.
func (s *Server) AuditEvents(ctx context.Context, offset int64) ([]AuditEvent, error) {
	marker := randomToken()
	if err := s.auditBarrier(ctx, marker); err != nil {
		return nil, fmt.Errorf("audit barrier request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		events, err := s.readAudit(offset)
		if err != nil {
			return nil, err
		}
		var out []AuditEvent
		seen := false
		for _, e := range events {
			if e.UserAgent == syncAgent {
				seen = seen || strings.Contains(e.RequestURI, marker)
				continue
			}
			out = append(out, e)
		}
		if seen {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the audit barrier's event never reached %s: %w", s.AuditLogPath, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) readAudit(offset int64) ([]AuditEvent, error) {
	f, err := os.Open(s.AuditLogPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return ParseAudit(f)
}

// auditBarrier GETs /version with the marker in the query string, which the
// apiserver ignores but the audit event's requestURI keeps.
func (s *Server) auditBarrier(ctx context.Context, marker string) error {
	cfg := s.Config()
	cfg.UserAgent = syncAgent
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Host+"/version?sync="+marker, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /version: %s", resp.Status)
	}
	return nil
}
