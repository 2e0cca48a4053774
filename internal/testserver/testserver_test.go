package testserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTokenFile(t *testing.T) {
	// The format is the apiserver's documented static token file: CSV with at
	// least token,user,uid and an optional fourth column of groups, quoted
	// when there is more than one ("token,user,uid,\"group1,group2,group3\"").
	tests := []struct {
		name   string
		users  []User
		tokens map[string]string
		want   string
	}{
		{
			name:   "no groups leaves three columns",
			users:  []User{{Name: "limited"}},
			tokens: map[string]string{"limited": "t1"},
			want:   "t1,limited,limited\n",
		},
		{
			name:   "one group is quoted like several",
			users:  []User{{Name: "admin", Groups: []string{"system:masters"}}},
			tokens: map[string]string{"admin": "t0"},
			want:   "t0,admin,admin,\"system:masters\"\n",
		},
		{
			name:   "several groups stay in one quoted column",
			users:  []User{{Name: "dev", Groups: []string{"team-a", "team-b"}}, {Name: "ops"}},
			tokens: map[string]string{"dev": "t2", "ops": "t3"},
			want:   "t2,dev,dev,\"team-a,team-b\"\nt3,ops,ops\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tokenFile(tt.users, tt.tokens))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tokenFile() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllUsers(t *testing.T) {
	tests := []struct {
		name    string
		extra   []User
		want    []string // user names in order
		wantErr string
	}{
		{name: "none", want: []string{Admin, Limited}},
		{name: "extra users follow the built-in ones", extra: []User{{Name: "e2e"}, {Name: "viewer", Groups: []string{"g"}}}, want: []string{Admin, Limited, "e2e", "viewer"}},
		{name: "admin cannot be redefined", extra: []User{{Name: Admin}}, wantErr: "listed twice"},
		{name: "limited cannot be redefined", extra: []User{{Name: Limited, Groups: []string{"system:masters"}}}, wantErr: "listed twice"},
		{name: "duplicate extra", extra: []User{{Name: "x"}, {Name: "x"}}, wantErr: "listed twice"},
		{name: "empty name", extra: []User{{}}, wantErr: "must be non-empty"},
		{name: "comma would split the CSV row", extra: []User{{Name: "a,b"}}, wantErr: "without commas"},
		{name: "comma in a group would split the group list", extra: []User{{Name: "a", Groups: []string{"g1,g2"}}}, wantErr: "without commas"},
		{name: "quote in a group would end the quoted column", extra: []User{{Name: "a", Groups: []string{`g"`}}}, wantErr: "quotes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := allUsers(tt.extra)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("allUsers() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("allUsers() error = %v", err)
			}
			var names []string
			for _, u := range users {
				names = append(names, u.Name)
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("allUsers() names (-want +got):\n%s", diff)
			}
			if got := users[0].Groups; len(got) != 1 || got[0] != "system:masters" {
				t.Errorf("admin groups = %v, want [system:masters] (RBAC's always-allowed group)", got)
			}
			if got := users[1].Groups; len(got) != 0 {
				t.Errorf("limited groups = %v, want none", got)
			}
		})
	}
}

// Lines shaped like audit.k8s.io/v1 Events as the log backend writes them:
// one JSON object per line.
const (
	auditList        = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/pods?limit=500","verb":"list","user":{"username":"admin","groups":["system:masters","system:authenticated"]},"userAgent":"kubectl/v1.37.2","objectRef":{"resource":"pods","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200}}`
	auditForbidden   = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns/pods/p/status","verb":"patch","user":{"username":"limited","groups":["system:authenticated"]},"objectRef":{"resource":"pods","namespace":"ns","name":"p","apiVersion":"v1","subresource":"status"},"responseStatus":{"metadata":{},"status":"Failure","reason":"Forbidden","code":403}}`
	auditNonResource = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a3","stage":"ResponseComplete","requestURI":"/version","verb":"get","user":{"username":"admin"}}`
)

func TestParseAudit(t *testing.T) {
	type summary struct {
		ID, Verb, User, Resource, Namespace, Sub string
		Code                                     int32
	}
	tests := []struct {
		name    string
		log     string
		want    []summary
		wantErr string
	}{
		{name: "empty log", log: ""},
		{
			name: "resource and non-resource events",
			log:  auditList + "\n" + auditForbidden + "\n" + auditNonResource + "\n",
			want: []summary{
				{ID: "a1", Verb: "list", User: "admin", Resource: "pods", Code: 200},
				{ID: "a2", Verb: "patch", User: "limited", Resource: "pods", Namespace: "ns", Sub: "status", Code: 403},
				{ID: "a3", Verb: "get", User: "admin"},
			},
		},
		{
			name: "an unterminated last line is still being written",
			log:  auditList + "\n" + auditForbidden[:40],
			want: []summary{{ID: "a1", Verb: "list", User: "admin", Resource: "pods", Code: 200}},
		},
		{
			name: "blank lines are skipped",
			log:  "\n" + auditNonResource + "\n\n",
			want: []summary{{ID: "a3", Verb: "get", User: "admin"}},
		},
		{
			name:    "a complete line that is not JSON is an error, not silently dropped",
			log:     auditList + "\n" + "not json\n" + auditNonResource + "\n",
			wantErr: "audit log line 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := ParseAudit(strings.NewReader(tt.log))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAudit() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAudit() error = %v", err)
			}
			var got []summary
			for _, e := range events {
				s := summary{ID: e.AuditID, Verb: e.Verb, User: e.User.Username, Code: e.Code()}
				if e.ObjectRef != nil {
					s.Resource, s.Namespace, s.Sub = e.ObjectRef.Resource, e.ObjectRef.Namespace, e.ObjectRef.Subresource
				}
				got = append(got, s)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAudit() (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeTB records how handleStartError ended a test. Skipf and Fatalf would
// stop the goroutine in a real testing.T; here they only record.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Skipf(format string, args ...any)  { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestHandleStartError(t *testing.T) {
	missing := fmt.Errorf("%w: run hack/testbin.sh", errNoTestbin)
	broken := errors.New("kube-apiserver exited (exit status 1)")
	tests := []struct {
		name     string
		err      error
		ci       bool
		wantSkip bool
	}{
		{name: "missing testbin outside CI skips", err: missing, ci: false, wantSkip: true},
		{name: "other failure outside CI skips", err: broken, ci: false, wantSkip: true},
		{name: "missing testbin in CI fails", err: missing, ci: true, wantSkip: false},
		{name: "other failure in CI fails", err: broken, ci: true, wantSkip: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTB{}
			handleStartError(f, tt.err, tt.ci)
			msg := f.failed
			if tt.wantSkip {
				msg = f.skipped
				if f.failed != "" {
					t.Errorf("failed with %q, want a skip", f.failed)
				}
			} else if f.skipped != "" {
				t.Errorf("skipped with %q, want a failure", f.skipped)
			}
			if !strings.Contains(msg, tt.err.Error()) {
				t.Errorf("message %q does not carry the cause %q", msg, tt.err)
			}
		})
	}
}

func TestResolveBinDir(t *testing.T) {
	complete := t.TempDir()
	for _, b := range []string{"etcd", "kube-apiserver", "kubectl"} {
		if err := os.WriteFile(filepath.Join(complete, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	partial := t.TempDir()
	if err := os.WriteFile(filepath.Join(partial, "etcd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		dir, env    string
		want        string
		wantMissing bool
	}{
		{name: "explicit dir wins over the environment", dir: complete, env: partial, want: complete},
		{name: "environment is used when no dir is given", env: complete, want: complete},
		{name: "a dir without all three binaries is a missing testbin", env: partial, wantMissing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECTL_CAPS_TESTBIN", tt.env)
			got, err := resolveBinDir(t.Context(), tt.dir)
			if tt.wantMissing {
				if !errors.Is(err, errNoTestbin) {
					t.Fatalf("resolveBinDir() error = %v, want errNoTestbin", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("resolveBinDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
