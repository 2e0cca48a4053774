package engine

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

const capsPath = "spec.containers[0].securityContext.capabilities"

type wantWarning struct {
	Code, Field string
	// Message must contain every one of these.
	Contains []string
}

func ww(code, field string, contains ...string) wantWarning {
	return wantWarning{Code: code, Field: field, Contains: contains}
}

// Each row is one rule of the runtimes' add/drop handling, capabilities(7)
// or Pod Security Admission, with what the
// message must say on that runtime. Every input sets a UID so that only the
// warnings under test appear.
func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want []wantWarning
	}{
		{"clean restricted container", in(ctrd, s(uid(1000), ape(false), dropCaps("ALL"), addCaps("NET_BIND_SERVICE"))), nil},

		// CAP_ prefix (containerd prefixes again; PSA compares exact strings).
		{"containerd CAP_ add", in(ctrd, s(uid(0), addCaps("CAP_SYS_ADMIN"))), []wantWarning{
			ww("cap-prefix", capsPath+".add[0]", `container "app"`, "ignored on containerd", "CAP_CAP_SYS_ADMIN", "does not get SYS_ADMIN", `write "SYS_ADMIN"`)}},
		{"containerd CAP_ drop", in(ctrd, s(uid(0), dropCaps("NET_ADMIN", "cap_net_raw"))), []wantWarning{
			ww("cap-prefix", capsPath+".drop[1]", "drops nothing on containerd", "CAP_CAP_NET_RAW", "NET_RAW stays", `write "NET_RAW"`)}},
		{"cri-o CAP_ drop works but is flagged", in(crio, s(uid(0), dropCaps("CAP_NET_RAW"))), []wantWarning{
			ww("cap-prefix", capsPath+".drop[0]", "works on cri-o", "containerd ignores", `write "NET_RAW"`)}},
		{"docker CAP_ add works but is flagged", in(dock, s(uid(0), addCaps("cap_sys_time"))), []wantWarning{
			ww("cap-prefix", capsPath+".add[0]", "works on docker", `write "SYS_TIME"`)},
		},

		// Unknown names with the closest suggestion.
		{"containerd unknown add", in(ctrd, s(uid(0), addCaps("NET_RAWW"))), []wantWarning{
			ww("unknown-capability", capsPath+".add[0]", "names no capability", "runc", "ignores it with a warning", `did you mean "NET_RAW"?`)}},
		{"containerd unknown drop", in(ctrd, s(uid(0), dropCaps("SYS_ADMN"))), []wantWarning{
			ww("unknown-capability", capsPath+".drop[0]", "silently ignores", `did you mean "SYS_ADMIN"?`)}},
		{"containerd blank around a name", in(ctrd, s(uid(0), dropCaps("NET_RAW "))), []wantWarning{
			ww("unknown-capability", capsPath+".drop[0]", `write "NET_RAW"`)}},
		{"containerd nothing close", in(ctrd, s(uid(0), addCaps("hello world"))), []wantWarning{
			ww("unknown-capability", capsPath+".add[0]", "kubectl caps explain")}},
		{"cri-o unknown add fails creation", in(crio, s(uid(0), addCaps("NET_RAWW"))), []wantWarning{
			ww("unknown-capability", capsPath+".add[0]", "cri-o refuses to create the container", `did you mean "NET_RAW"?`),
			ww("create-fails", capsPath, "will not be created on cri-o")}},
		{"docker CAP_ALL fails creation", in(dock, s(uid(0), dropCaps("CAP_ALL"))), []wantWarning{
			ww("unknown-capability", capsPath+".drop[0]", "docker refuses", `write the keyword as "ALL"`),
			ww("create-fails", capsPath, "docker")}},
		{"containerd CAP_ALL", in(ctrd, s(uid(0), addCaps("CAP_ALL"))), []wantWarning{
			ww("unknown-capability", capsPath+".add[0]", `write the keyword as "ALL"`)}},

		// Spelling that runtimes accept and PSA does not (exact strings).
		{"lower-case name in add", in(crio, s(uid(0), addCaps("chown"))), []wantWarning{
			ww("non-canonical-name", capsPath+".add[0]", "works on every runtime", "exact strings", `write "CHOWN"`)}},
		{"lower-case name in drop is fine", in(crio, s(uid(0), dropCaps("chown"))), nil},
		{"lower-case all in drop", in(ctrd, s(uid(0), dropCaps("all")), podSeccomp("RuntimeDefault")), []wantWarning{
			ww("lowercase-all", capsPath+".drop[0]", "drops every capability on every runtime", `exact string "ALL"`)}},
		{"mixed-case All in add", in(dock, s(uid(0), addCaps("All"))), []wantWarning{
			ww("lowercase-all", capsPath+".add[0]", "adds every capability", `write "ALL"`)}},

		// Same name in add and drop (precedence per runtime).
		{"containerd add and drop", in(ctrd, s(uid(0), addCaps("NET_ADMIN", "NET_RAW"), dropCaps("NET_RAW"))), []wantWarning{
			ww("add-and-drop", capsPath+".add[1]", "on containerd the drop wins", "does not get NET_RAW")}},
		{"cri-o add and drop", in(crio, s(uid(0), addCaps("SYS_ADMIN"), dropCaps("SYS_ADMIN", "SYS_ADMIN"))), []wantWarning{
			ww("add-and-drop", capsPath+".add[0]", "on cri-o the drop wins")}},
		{"docker add and drop", in(dock, s(uid(0), addCaps("NET_RAW"), dropCaps("NET_RAW"))), []wantWarning{
			ww("add-and-drop", capsPath+".add[0]", "on docker the add wins", "gets NET_RAW")}},
		{"containerd add ALL and drop ALL", in(ctrd, s(uid(0), addCaps("ALL"), dropCaps("ALL")), podSeccomp("RuntimeDefault")), []wantWarning{
			ww("add-and-drop", capsPath+".add[0]", "drop ALL wins")}},
		{"docker add ALL and drop ALL", in(dock, s(uid(0), addCaps("ALL"), dropCaps("ALL"))), []wantWarning{
			ww("add-and-drop", capsPath+".add[0]", "add ALL wins")}},

		// Privileged.
		{"privileged with add/drop", in(ctrd, s(uid(0), privileged(true), addCaps("CAP_SYS_ADMIN"), dropCaps("ALL"))), []wantWarning{
			ww("privileged-add-drop", capsPath, "is privileged", "every capability", "not applied")}},
		{"privileged without lists", in(ctrd, s(uid(0), privileged(true))), nil},
		{"privileged docker with an unknown name", in(dock, s(uid(0), privileged(true), addCaps("FOO"))), []wantWarning{
			ww("unknown-capability", capsPath+".add[0]", "docker refuses"),
			ww("privileged-add-drop", capsPath),
			ww("create-fails", capsPath)}},
		{"privileged non-root on cri-o", in(crio, s(uid(1000), privileged(true))), []wantWarning{
			ww("privileged-nonroot-ambient", "spec.containers[0].securityContext.privileged", "ambient", "not runtime-tested")}},
		{"privileged non-root on containerd", in(ctrd, s(uid(1000), privileged(true))), nil},

		// User unknown.
		{"unknown user", in(ctrd, nil), []wantWarning{
			ww("unknown-user", "spec.containers[0].securityContext.runAsUser", "image's USER", "assuming root")}},

		// API validation (pkg/apis/core/validation ValidateSecurityContext).
		{"privileged with allowPrivilegeEscalation false", in(ctrd, s(uid(0), privileged(true), ape(false))), []wantWarning{
			ww("api-rejects", "spec.containers[0].securityContext.allowPrivilegeEscalation", "rejected by the API server")}},
		{"literal CAP_SYS_ADMIN with allowPrivilegeEscalation false on cri-o", in(crio, s(uid(0), ape(false), addCaps("CAP_SYS_ADMIN"))), []wantWarning{
			ww("cap-prefix", capsPath+".add[0]", "works on cri-o"),
			ww("api-rejects", capsPath+".add[0]", "checks only this literal string")}},
		{"SYS_ADMIN with allowPrivilegeEscalation false passes validation", in(crio, s(uid(0), ape(false), addCaps("SYS_ADMIN"))), nil},
		{"cap_sys_admin is not the literal", in(crio, s(uid(0), ape(false), addCaps("cap_sys_admin"))), []wantWarning{
			ww("cap-prefix", capsPath+".add[0]")}},

		// CRI-O before the drop-ALL fix.
		{"cri-o<1.18 drop ALL", in(crio117, s(uid(0), dropCaps("ALL"), addCaps("NET_BIND_SERVICE")), podSeccomp("RuntimeDefault")), []wantWarning{
			ww("crio-drop-all-readds-defaults", capsPath+".drop[0]", "on cri-o 1.17,", "cri-o#4923", "keeps CHOWN,")}},
		// The patch version settles CRI-O 1.18-1.21: 1.20.3 has no fix, 1.21.1 has it.
		{"cri-o 1.20 drop ALL", in(runtimes.Profile{Kind: runtimes.CRIO, Version: "1.20.3"}, s(uid(0), dropCaps("ALL")), podSeccomp("RuntimeDefault")), []wantWarning{
			ww("crio-drop-all-readds-defaults", capsPath+".drop[0]", "on cri-o 1.20.3", "v1.19.5, v1.21.1 and v1.22.0", "keeps CHOWN,")}},
		{"cri-o 1.21.1 drop ALL", in(runtimes.Profile{Kind: runtimes.CRIO, Version: "1.21.1"}, s(uid(0), dropCaps("ALL")), podSeccomp("RuntimeDefault")), nil},
		{"cri-o 1.19 without patch drop ALL", in(runtimes.Profile{Kind: runtimes.CRIO, Version: "1.19"}, s(uid(0), dropCaps("ALL")), podSeccomp("RuntimeDefault")), []wantWarning{
			ww("crio-drop-all-may-readd-defaults", capsPath+".drop[0]", "cri-o 1.19 may", "v1.19.5 and v1.21.1", "assumes the fixed behaviour")}},
		{"cri-o 1.21 without patch drop ALL", in(runtimes.Profile{Kind: runtimes.CRIO, Version: "1.21"}, s(uid(0), dropCaps("ALL")), podSeccomp("RuntimeDefault")), []wantWarning{
			ww("crio-drop-all-may-readd-defaults", capsPath+".drop[0]", "no patch number")}},
		// Docker: add wins over drop, except after add ALL (moby
		// TweakCapabilities), where the set lacks the drop.
		{"docker add X drop X", in(dock, s(uid(0), addCaps("NET_ADMIN"), dropCaps("NET_ADMIN"))), []wantWarning{
			ww("add-and-drop", capsPath+".add[0]", "the add wins, so the container gets NET_ADMIN")}},
		{"docker add ALL,X drop X", in(dock, s(uid(0), addCaps("ALL", "NET_ADMIN"), dropCaps("NET_ADMIN"))), []wantWarning{
			ww("add-and-drop", capsPath+".add[1]", "the drop wins and the container does not get NET_ADMIN")}},
		// Docker before 23.0 does not know BPF, PERFMON, CHECKPOINT_RESTORE.
		{"docker 20.10 add BPF", in(runtimes.Profile{Kind: runtimes.Docker, Version: "20.10.24"}, s(uid(0), addCaps("BPF"))), []wantWarning{
			ww("unknown-capability", capsPath+".add[0]", "names BPF, which docker 20.10.24 does not know", `unknown capability: "CAP_BPF"`, "v23.0.0"),
			ww("create-fails", capsPath)}},
		{"docker 25 add BPF", in(runtimes.Profile{Kind: runtimes.Docker, Version: "25.0.0"}, s(uid(0), addCaps("BPF"))), nil},
		{"cri-o 1.22 drop ALL", in(runtimes.Profile{Kind: runtimes.CRIO, Version: "1.22.0"}, s(uid(0), dropCaps("ALL")), podSeccomp("RuntimeDefault")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.in)
			var got []wantWarning
			for _, w := range r.Warnings {
				got = append(got, wantWarning{Code: w.Code, Field: w.Field})
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(wantWarning{}, "Contains")); diff != "" {
				t.Fatalf("warnings (-want +got):\n%s\n%+v", diff, r.Warnings)
			}
			for i, w := range tt.want {
				for _, sub := range w.Contains {
					if !strings.Contains(r.Warnings[i].Message, sub) {
						t.Errorf("%s message %q lacks %q", w.Code, r.Warnings[i].Message, sub)
					}
				}
			}
			for _, w := range r.Warnings {
				checkSummary(t, w)
			}
		})
	}
}

// checkSummary holds a warning's short form to what the stderr line needs
// (issue 16 item 14): present, one line, shorter than the message, and
// without the container, which the line names itself.
func checkSummary(t *testing.T, w Warning) {
	t.Helper()
	switch {
	case w.Summary == "":
		t.Errorf("%s at %s has no summary", w.Code, w.Field)
	case strings.ContainsAny(w.Summary, "\n\r"):
		t.Errorf("%s summary %q is not one line", w.Code, w.Summary)
	case len(w.Summary) >= len(w.Message) || len(w.Summary) > 110:
		t.Errorf("%s summary %q (%d bytes) is not short: the message has %d", w.Code, w.Summary, len(w.Summary), len(w.Message))
	case strings.Contains(w.Summary, "container \""):
		t.Errorf("%s summary %q names the container; the printed line does", w.Code, w.Summary)
	}
}

func TestNotes(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want []string
	}{
		{"SYS_ADMIN with no_new_privs", in(crio, s(uid(0), ape(false), addCaps("SYS_ADMIN"))), []string{"does not contain a process holding SYS_ADMIN"}},
		{"no SYS_ADMIN", in(crio, s(uid(0), ape(false))), nil},
		{"root, restricted, RuntimeDefault", in(ctrd, s(uid(0), dropCaps("ALL")), podSeccomp("RuntimeDefault")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.in)
			if len(r.Notes) != len(tt.want) {
				t.Fatalf("notes = %q, want %d", r.Notes, len(tt.want))
			}
			for i, sub := range tt.want {
				if !strings.Contains(r.Notes[i], sub) {
					t.Errorf("note %q lacks %q", r.Notes[i], sub)
				}
			}
		})
	}
}
