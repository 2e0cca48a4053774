// Package manifest reads Kubernetes manifests from files, directories, URLs
// and standard input as "kubectl apply -f" does, and kustomizations as
// "kubectl apply -k" does, and hands every object that runs pods (a
// workload, or a custom resource with a pod template at spec.template) to
// the caller with its pod spec. Where kubectl would stop, on a file in a
// directory that is not a Kubernetes manifest, it skips the file with a
// note instead (see Read); docs/manifests.md describes the rules.
//
// Reading is kubectl's own: cli-runtime's visitors find the files (-R,
// extensions, globs), fetch URLs, split YAML and JSON streams, decode
// unstructured objects and flatten Lists. This package composes those
// visitors itself instead of calling Builder.Do, because Do collects every
// per-document error into one aggregate at the end, which loses the document
// each belongs to, and a single missing path stops it from reading the
// other inputs at all.
package manifest

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured/unstructuredscheme"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Options says what to read.
type Options struct {
	Filenames []string  // files, directories, glob patterns, http(s) URLs, "-" for Stdin
	Recursive bool      // read subdirectories of directories (-R)
	Stdin     io.Reader // read for "-"
	// Kustomize is a directory with a kustomization file, rendered as
	// "kubectl apply -k" renders it (cli-runtime's KustomizeVisitor).
	Kustomize string
	// Namespace (-n) selects: workloads that set another namespace are left
	// out and counted in Stats.OtherNamespaces. Workloads that set none
	// are kept (kubectl would create them there). "" keeps everything.
	Namespace string
}

// Workload is one object that carries a pod template, or a Pod.
type Workload struct {
	Source string // file path as found, the URL, or "STDIN"
	// Document is the 1-based index of the YAML document in Source, counted
	// as yq and PyYAML do ("---" starts a document, even an empty one). For
	// JSON it counts the objects in the stream; for URLs it is 0 (unknown).
	// Objects from a List share the List's document.
	Document int
	// Line is the 1-based line of the document's first content (usually
	// its apiVersion or kind), or 0 if unknown (URLs, JSON).
	Line int
	// lines finds the line of a field (Locate); nil when lines are not
	// known.
	lines *fieldLines

	APIVersion, Kind, Namespace, Name string // Namespace is "" when the manifest sets none
	Labels                            map[string]string
	// Custom is set for a custom resource whose pod template was found at
	// spec.template (Argo Rollout, OpenKruise CloneSet, Knative Service):
	// the template is read as a pod's, but what runs from it is up to the
	// resource's controller. Notes says so in words.
	Custom bool
	Notes  []string

	// Object is the whole object as read, e.g. for suggest-drop -o
	// patched to print it with a patch applied. Shared, not copied: do
	// not change it.
	Object map[string]any

	PodMeta metav1.ObjectMeta // the pod template's metadata, or the Pod's own
	Spec    *corev1.PodSpec   // never nil
	// FieldPrefix is the path of Spec in the object: "spec" (Pod),
	// "spec.template.spec" (Deployment, StatefulSet, DaemonSet,
	// ReplicaSet, ReplicationController, Job),
	// "spec.jobTemplate.spec.template.spec" (CronJob), "template.spec"
	// (PodTemplate); "spec.template.spec" for a custom resource too.
	FieldPrefix string
	// UnknownFields are paths in the pod template that Kubernetes does not
	// know, e.g. "spec.template.spec.containers[0].securityContext.capabilites".
	// They were ignored, as a lenient API server would ignore them; the
	// caller should warn, because a misspelt securityContext field changes
	// nothing in the pod.
	UnknownFields []string
}

// Stats counts what Read saw. Objects from a List count one by one; the
// List itself does not count.
type Stats struct {
	Objects   int // every object decoded, including those with a problem
	Workloads int // objects returned through visit (or that would have been, after a problem)
	Skipped   int // objects that are not workloads
	// SkippedKinds counts skipped objects by kind and group, as kubectl
	// writes them: "Service", "Ingress.networking.k8s.io".
	SkippedKinds map[string]int

	// Walked counts the files found by walking a directory; SkippedFiles
	// those of them left out because they are not Kubernetes manifests
	// (each has a note in Notes).
	Walked, SkippedFiles int
	// OtherNamespaces counts, by namespace, the workloads that Options.Namespace left out.
	OtherNamespaces map[string]int
	// Notes are what the user should be told that is not an error: a file
	// skipped, a custom resource audited through its pod template, a custom
	// resource whose containers could not be audited.
	Notes []Problem
}

// Read reads every input in order and calls visit for each workload as it
// is decoded, so that large inputs are never held in memory.
//
// When the input has problems Read still reads everything it can, so that
// one run reports them all, and returns them in an *InputError. From the
// first problem in an input named on the command line (a file, a URL,
// standard input, the -k directory) on, visit is no longer called; workloads
// visited before it are a partial result, and the caller must discard them
// and print nothing but the error. Problems in files found by walking a
// directory do not stop visit: a repository holds files of every kind, and
// one broken file should not hide the rest. The error then has Partial set,
// and the caller may print what was visited before failing. If visit
// returns an error, Read stops at once and returns that error unchanged.
//
// In a directory walk, a file in which no document has apiVersion or kind
// (a Helm values file, a GitHub workflow, a kustomization.yaml) is not a
// Kubernetes manifest: it is skipped with a note, as is every file of a
// Helm chart (a directory with Chart.yaml), whose templates are not YAML
// until rendered. A file named explicitly is read strictly, as kubectl
// reads it.
//
// Empty files and files with only comments are not a problem by themselves,
// but finding no object at all in any input is.
func Read(opts Options, visit func(Workload) error) (Stats, error) {
	r := newReader(opts, visit)
	if len(opts.Filenames) == 0 && opts.Kustomize == "" {
		r.problem(loc{}, `no input given; pass a file, a directory, a URL, or "-" for standard input`)
	}
	if opts.Kustomize != "" {
		r.readKustomize(opts.Kustomize)
		if r.visitErr != nil {
			return r.stats, r.visitErr
		}
	}
	stdinUsed := false
	for _, name := range opts.Filenames {
		switch {
		case name == "-":
			if stdinUsed {
				r.problem(loc{}, `standard input ("-") is given more than once; it can be read only once`)
				continue
			}
			stdinUsed = true
			r.readStdin()
		case strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://"):
			r.readURL(name)
		default:
			r.readPath(name)
		}
		if r.visitErr != nil {
			return r.stats, r.visitErr
		}
	}
	if len(r.problems) == 0 && r.stats.Objects == 0 && (len(opts.Filenames) > 0 || opts.Kustomize != "") {
		inputs := inputList(opts.Filenames)
		if opts.Kustomize != "" {
			inputs = fmt.Sprintf("the output of kustomize for %q", opts.Kustomize)
		}
		why := "the inputs are empty or hold only comments"
		if r.stats.SkippedFiles > 0 {
			why = fmt.Sprintf("%d file(s) were skipped as not Kubernetes manifests (see the notes) and the rest are empty", r.stats.SkippedFiles)
		}
		r.problem(loc{}, fmt.Sprintf("no objects found in %s; %s, so there is nothing to audit", inputs, why))
	}
	if len(r.problems) > 0 {
		return r.stats, &InputError{Problems: r.problems, Partial: r.strict == 0}
	}
	return r.stats, nil
}

func inputList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		if n == "-" {
			quoted[i] = stdinSource
		} else {
			quoted[i] = fmt.Sprintf("%q", n)
		}
	}
	return strings.Join(quoted, ", ")
}

// stdinSource is how kubectl names standard input in its messages.
const stdinSource = "STDIN"

// defaultHTTPAttempts is kubectl's number of tries for a URL given to -f.
const defaultHTTPAttempts = 3

// errStopped ends a visit early after the caller's visit failed.
var errStopped = errors.New("stopped")

type reader struct {
	opts     Options
	visit    func(Workload) error
	stats    Stats
	problems []Problem
	strict   int // problems that void the result (see Read)
	visitErr error
	raw      lastDocument

	// walked: the file being read was found by walking a directory.
	walked bool
	// rendered: the stream is kustomize's output, whose lines are not the
	// user's.
	rendered bool
	file     fileState

	// The cli-runtime constructors take its unexported mapper type, which
	// cannot be named here, so the mapper lives in these closures.
	newStream func(r io.Reader, source string) *resource.StreamVisitor
	expand    func(path string) ([]resource.Visitor, error)
	flatten   func(list *resource.Info) resource.Visitor
}

func newReader(opts Options, visit func(Workload) error) *reader {
	r := &reader{opts: opts, visit: visit, stats: Stats{SkippedKinds: map[string]int{}, OtherNamespaces: map[string]int{}}}
	// The local unstructured builder gives kubectl's decoder: unstructured
	// objects, metadata checked against ObjectMeta, no server.
	m := resource.NewLocalBuilder().Unstructured().Mapper()
	typer := unstructuredscheme.NewUnstructuredObjectTyper()
	r.newStream = func(in io.Reader, source string) *resource.StreamVisitor {
		return resource.NewStreamVisitor(in, m, source, &r.raw)
	}
	r.expand = func(path string) ([]resource.Visitor, error) {
		return resource.ExpandPathsToFileVisitors(m, path, opts.Recursive, resource.FileExtensions, &r.raw)
	}
	r.flatten = func(list *resource.Info) resource.Visitor {
		return resource.NewFlattenListVisitor(list, typer, m)
	}
	return r
}

// lastDocument keeps the JSON of the document being decoded, which
// StreamVisitor passes to its ContentValidator just before decoding, so that
// a decoding error can be explained from the data rather than from the
// decoder's message (which quotes the whole document).
type lastDocument struct{ data []byte }

func (l *lastDocument) ValidateBytes(data []byte) error {
	l.data = data
	return nil
}

// decodeBOM is the transformation kubectl's FileVisitor applies: UTF-16
// with a byte-order mark becomes UTF-8, a UTF-8 byte-order mark is dropped.
func decodeBOM(in io.Reader) io.Reader {
	return transform.NewReader(in, unicode.BOMOverride(unicode.UTF8.NewDecoder()))
}

func (r *reader) readStdin() {
	if r.opts.Stdin == nil {
		r.problem(loc{}, `standard input ("-") is not available here; pass a file instead`)
		return
	}
	pos := &positions{}
	r.readStream(r.newStream(pos.observe(decodeBOM(r.opts.Stdin)), stdinSource), stdinSource, pos)
}

func (r *reader) readURL(name string) {
	u, err := url.Parse(name)
	if err != nil {
		r.problem(loc{}, fmt.Sprintf("the URL %q is not valid: %v", name, err))
		return
	}
	v := &resource.URLVisitor{URL: u, StreamVisitor: r.newStream(nil, u.String()), HttpAttemptCount: defaultHTTPAttempts}
	r.readStream(v, u.String(), nil)
}

// readPath reads a file, a directory or a glob pattern, choosing files as
// cli-runtime's Builder.FilenameParam and Builder.Path do.
func (r *reader) readPath(name string) {
	paths, err := expandIfFilePattern(name)
	if err != nil {
		r.problem(loc{}, err.Error())
		return
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			r.problem(loc{}, notExist(p))
			continue
		}
		if err != nil {
			r.problem(loc{}, fmt.Sprintf("the path %q cannot be accessed: %v", p, err))
			continue
		}
		visitors, err := r.expand(p)
		if err != nil {
			r.problem(loc{}, fmt.Sprintf("error reading %q: %v", p, err))
			continue
		}
		if len(visitors) == 0 && fi.IsDir() {
			if r.opts.Recursive {
				r.problem(loc{}, fmt.Sprintf("the directory %q and its subdirectories have no %s files", p, extensionList()))
			} else {
				r.problem(loc{}, fmt.Sprintf("the directory %q has no %s files; to read its subdirectories too, pass -R", p, extensionList()))
			}
			continue
		}
		charts := newChartFinder(p)
		for _, v := range visitors {
			fv, ok := v.(*resource.FileVisitor)
			switch {
			case !ok:
				r.readStream(v, p, nil)
			case !fi.IsDir():
				r.readFile(fv)
			default:
				r.stats.Walked++
				if charts.skip(fv.Path) {
					r.stats.SkippedFiles++
					continue
				}
				r.walked = true
				r.readFile(fv)
				r.walked = false
			}
			if r.visitErr != nil {
				return
			}
		}
		for _, c := range charts.found {
			r.stats.Notes = append(r.stats.Notes, Problem{Source: c.dir, Message: fmt.Sprintf(
				"skipped %d file(s): a Helm chart (it has Chart.yaml), whose templates are not Kubernetes manifests until rendered; "+
					"audit the rendered chart: helm template RELEASE %s | kubectl caps audit -f -", c.files, c.dir)})
		}
	}
}

func extensionList() string {
	e := resource.FileExtensions
	return strings.Join(e[:len(e)-1], ", ") + " or " + e[len(e)-1]
}

// expandIfFilePattern is cli-runtime's: a name that does not exist is tried
// as a glob pattern.
func expandIfFilePattern(pattern string) ([]string, error) {
	if _, err := os.Stat(pattern); os.IsNotExist(err) {
		matches, err := filepath.Glob(pattern)
		if err == nil && len(matches) == 0 {
			return nil, errors.New(notExist(pattern))
		}
		if err != nil {
			return nil, fmt.Errorf("the pattern %q is not valid: %v; quote it or escape its special characters", pattern, err)
		}
		return matches, nil
	}
	return []string{pattern}, nil
}

// notExist extends kubectl's message for a missing path.
func notExist(path string) string {
	return fmt.Sprintf("the path %q does not exist; check the name given to -f", path)
}

// readFile does what FileVisitor.Visit does, with the reader observed.
func (r *reader) readFile(fv *resource.FileVisitor) {
	f, err := os.Open(fv.Path)
	if err != nil {
		r.problem(loc{source: fv.Path}, fmt.Sprintf("cannot read the file: %v", err))
		return
	}
	defer f.Close()
	pos := &positions{}
	fv.StreamVisitor.Reader = pos.observe(decodeBOM(f))
	r.readStream(fv.StreamVisitor, fv.Path, pos)
}

// readStream visits the documents of one source in order. pos is nil when
// positions are not known (URLs).
func (r *reader) readStream(v resource.Visitor, source string, pos *positions) {
	defer func() {
		// Nothing in this package panics on purpose; if the decoding
		// libraries do, the user still gets an error, not a crash.
		if p := recover(); p != nil {
			r.problem(loc{source: source}, fmt.Sprintf("internal error while reading this input: %v; please report it", p))
		}
	}()
	r.file = fileState{}
	defer r.endFile(source)
	ordinal := 0
	err := v.Visit(func(info *resource.Info, err error) error {
		ordinal++
		at := pos.locate(source, ordinal)
		if r.rendered {
			at.line, at.text = 0, nil
		}
		if err != nil {
			msg := explainDecodeError(r.raw.data, source, err)
			if why := notAnObject(r.raw.data); why != "" && r.walked && r.file.objects == 0 {
				// Maybe not a manifest at all: decided at the end of the file.
				r.file.pending = append(r.file.pending, pendingProblem{at, msg, why})
				return nil
			}
			r.problem(at, msg)
			return nil
		}
		r.file.objects++
		r.flushPending()
		if at.secondKind > 0 {
			r.problem(at, fmt.Sprintf("a second top-level \"kind:\" at line %d: two objects are written one after the other "+
				"without a \"---\" line between them (kubectl prints several objects that way with -o yaml), so all but the last "+
				"would be lost; put \"---\" before each object", at.secondKind))
			return nil
		}
		r.document(at, info)
		if r.visitErr != nil {
			return errStopped
		}
		return nil
	})
	if err == nil || errors.Is(err, errStopped) {
		return
	}
	// A syntax error: the file cannot be judged a non-manifest, so what
	// was held back is reported with it.
	r.flushPending()
	r.streamError(source, pos, ordinal, err)
}

// fileState is what readStream knows about the file it reads, to decide
// whether a file found in a directory walk is a Kubernetes manifest.
type fileState struct {
	objects int              // documents decoded as objects
	pending []pendingProblem // documents that are not objects, while no document is
}

type pendingProblem struct {
	at       loc
	msg, why string
}

// flushPending reports the held-back documents as the problems they are:
// in a file with Kubernetes objects, a document without apiVersion and kind
// is a broken object, not a sign of another kind of file.
func (r *reader) flushPending() {
	for _, p := range r.file.pending {
		r.problem(p.at, p.msg)
	}
	r.file.pending = nil
}

// endFile skips a walked file in which no document is an object.
func (r *reader) endFile(source string) {
	if len(r.file.pending) == 0 {
		return
	}
	first := r.file.pending[0]
	r.file.pending = nil
	r.stats.SkippedFiles++
	r.stats.Notes = append(r.stats.Notes, Problem{Source: source, Message: "skipped, not a Kubernetes manifest: " + first.why + looksLike(source)})
}

// streamError reports why a source stopped before its end.
func (r *reader) streamError(source string, pos *positions, ordinal int, err error) {
	msg := err.Error()
	inner, decoding := strings.CutPrefix(msg, "error parsing "+source+": ")
	switch {
	case !decoding:
		// Fetching the URL failed; kubectl's message names it.
		r.problem(loc{}, msg+"; check the URL")
	case pos != nil && pos.readErr != nil:
		r.problem(loc{source: source}, fmt.Sprintf("cannot read: %v", pos.readErr))
	case pos.isBinary():
		r.problem(loc{source: source}, "binary data, not YAML or JSON; pass only manifest files (a UTF-16 file needs a byte-order mark)")
	default:
		r.problem(syntaxError(pos, source, ordinal, inner))
	}
}

// document handles one decoded document: a List's items one by one, as
// kubectl flattens them, or a single object.
func (r *reader) document(at loc, info *resource.Info) {
	list, ok := info.Object.(*unstructured.UnstructuredList)
	if !ok {
		if u, ok := info.Object.(*unstructured.Unstructured); ok {
			r.object(at, u)
		}
		return
	}
	if msg := listProblem(list); msg != "" {
		r.problem(at, msg)
		return
	}
	item := 0
	err := r.flatten(info).Visit(func(i *resource.Info, err error) error {
		if err != nil {
			return err
		}
		item++
		if u, ok := i.Object.(*unstructured.Unstructured); ok {
			r.object(at.inItem(item), u)
		}
		if r.visitErr != nil {
			return errStopped
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopped) {
		r.problem(at, fmt.Sprintf("%s: %v", list.GetKind(), err))
	}
}

// listProblem finds what would make kubectl's flattening fail, to say it
// in the user's terms and with the item's index.
func listProblem(list *unstructured.UnstructuredList) string {
	for i := range list.Items {
		item := &list.Items[i]
		switch {
		case item.IsList():
			return fmt.Sprintf("%s: items[%d] is itself a List, which kubectl cannot read; move its items into the outer list", list.GetKind(), i)
		case item.GetKind() == "":
			return fmt.Sprintf("%s: items[%d] has no kind; every item needs apiVersion and kind", list.GetKind(), i)
		}
	}
	return ""
}

// object classifies one object and hands workloads to visit.
func (r *reader) object(at loc, u *unstructured.Unstructured) {
	r.stats.Objects++
	c := classify(u)
	switch {
	case c.problem != "":
		r.problem(at, c.problem)
	case c.workload == nil:
		r.stats.Skipped++
		r.stats.SkippedKinds[c.groupKind]++
		if c.note != "" {
			r.note(at, c.note)
		}
	default:
		r.workload(at, u, c.workload)
	}
}

func (r *reader) workload(at loc, u *unstructured.Unstructured, w *workloadKind) {
	what := describe(u)
	meta, spec, unknown, err := w.read(u.Object)
	if err != nil && w.custom {
		// Its schema is its own; not being a pod template is no mistake.
		r.stats.Skipped++
		r.stats.SkippedKinds[groupKind(u)]++
		r.note(at, fmt.Sprintf("%s (%s) has containers at spec.template.spec.containers, but its spec.template is not a pod template (%v); "+
			"they were not audited: audit the pods its controller creates, on the cluster", what, u.GetAPIVersion(), err))
		return
	}
	if err != nil {
		r.problem(at, fmt.Sprintf("%s does not match the Kubernetes schema: %v; fix the manifest", what, err))
		return
	}
	if len(spec.Containers) == 0 {
		r.problem(at, fmt.Sprintf("%s has no containers in %s.containers; a pod needs at least one (for a kustomize patch, audit the output of \"kubectl kustomize\" instead)", what, w.prefix))
		return
	}
	if ns := u.GetNamespace(); r.opts.Namespace != "" && ns != "" && ns != r.opts.Namespace {
		r.stats.OtherNamespaces[ns]++
		return
	}
	r.stats.Workloads++
	if r.strict > 0 || r.visitErr != nil {
		return // the result is already void, or the caller has stopped; see Read
	}
	var notes []string
	if w.custom {
		note := fmt.Sprintf("%s (%s): a custom resource; its pod template at spec.template is audited as a pod's, "+
			"and what runs from it is up to its controller", what, u.GetAPIVersion())
		notes = append(notes, note)
		r.note(at, note)
	}
	var inTemplate []string
	for _, f := range unknown {
		if strings.HasPrefix(f, podTemplatePath(w.prefix)) {
			inTemplate = append(inTemplate, f)
		}
	}
	var lines *fieldLines
	if at.text != nil {
		// JSON has no first line (Line stays 0, as in its problems) but
		// its fields have lines.
		lines = &fieldLines{text: at.text, start: at.start, first: cmp.Or(at.line, at.start)}
		if at.item > 0 {
			lines.item = fmt.Sprintf("items[%d]", at.item-1)
		}
	}
	err = r.visit(Workload{
		Source:        at.source,
		Document:      at.doc,
		Line:          at.line,
		lines:         lines,
		APIVersion:    u.GetAPIVersion(),
		Kind:          u.GetKind(),
		Namespace:     u.GetNamespace(),
		Name:          u.GetName(),
		Labels:        u.GetLabels(),
		Object:        u.Object,
		PodMeta:       *meta,
		Spec:          spec,
		FieldPrefix:   w.prefix,
		UnknownFields: inTemplate,
		Custom:        w.custom,
		Notes:         notes,
	})
	if err != nil {
		r.visitErr = err
	}
}

func (r *reader) problem(at loc, msg string) {
	if at.item > 0 {
		msg = fmt.Sprintf("items[%d]: %s", at.item-1, msg)
	}
	if !r.walked {
		r.strict++
	}
	r.problems = append(r.problems, Problem{Source: at.source, Line: at.line, Document: at.doc, Message: msg})
}

// note records something the user should hear that is not an error.
func (r *reader) note(at loc, msg string) {
	if at.item > 0 {
		msg = fmt.Sprintf("items[%d]: %s", at.item-1, msg)
	}
	r.stats.Notes = append(r.stats.Notes, Problem{Source: at.source, Line: at.line, Document: at.doc, Message: msg})
}

// loc is where an object or problem is.
type loc struct {
	source    string
	doc, line int
	item      int // 1-based index in a List, 0 if not in one
	// secondKind: see docPos.
	secondKind int
	// text (see queued) and start (see docPos): for the lines of fields.
	text  []byte
	start int
}

func (l loc) inItem(i int) loc {
	l.item = i
	return l
}

func (p *positions) locate(source string, ordinal int) loc {
	d, text := p.nextText(ordinal)
	return loc{source: source, doc: d.doc, line: d.first, secondKind: d.secondKind, text: text, start: d.start}
}

// Target is the workload as the engine's input: in its own namespace, or
// else in namespace (-n), or else in "default", as kubectl apply would
// place it; judged on runtime p.
func (w *Workload) Target(namespace string, p runtimes.Profile) workload.Target {
	ns := w.Namespace
	if ns == "" {
		ns = namespace
	}
	if ns == "" {
		ns = "default"
	}
	source := w.Source
	if w.Document > 0 {
		source = fmt.Sprintf("%s#%d", w.Source, w.Document)
	}
	return workload.Target{
		Namespace:     ns,
		Workload:      workload.Ref{Kind: w.Kind, Name: w.Name},
		Source:        source,
		Spec:          w.Spec,
		Meta:          &w.PodMeta,
		FieldPrefix:   w.FieldPrefix,
		Profile:       p,
		UnknownFields: w.UnknownFields,
		Notes:         w.Notes,
		Locate:        w.Locate,
		Position:      w.Position,
	}
}

// Position is Locate's answer as a value, with the column of the node
// (workload.Position).
func (w *Workload) Position(field string) workload.Position {
	p := workload.Position{File: w.Source, Line: w.Line}
	if w.lines != nil {
		p.Line, p.Column = w.lines.position(field)
	}
	return p
}

// Locate says where a field path of the object is written: "FILE:LINE"
// with the line of the field, or of its nearest ancestor the manifest
// writes (a warning about a missing runAsUser points at the container);
// "FILE:LINE" with the document's first line when the document cannot be
// parsed again; FILE alone when lines are not known (a URL, kustomize's
// output, whose lines are not the user's). A JSON object's fields have
// lines too.
func (w *Workload) Locate(field string) string {
	switch {
	case w.lines != nil:
		return w.Source + ":" + strconv.Itoa(w.lines.line(field))
	case w.Line > 0:
		return w.Source + ":" + strconv.Itoa(w.Line)
	}
	return w.Source
}

// Annotation is the value of an annotation the object or its pod template
// sets, and the field path of the annotations that set it ("" when
// neither does). The object's own metadata is read first. When both set
// it to different values, which one applies would be a guess: an error.
func (w *Workload) Annotation(key string) (value, field string, err error) {
	objField, tmplField := "metadata.annotations", strings.TrimSuffix(w.FieldPrefix, "spec")+"metadata.annotations"
	meta, _ := w.Object["metadata"].(map[string]any)
	anns, _ := meta["annotations"].(map[string]any)
	a := exception.Annotated{}
	a.Object, a.OnObject = anns[key].(string)
	a.Template, a.OnTemplate = w.PodMeta.Annotations[key]
	if objField == tmplField { // a Pod: its metadata is its template's
		a.OnTemplate = false
	}
	value, onObject, ok, err := a.Pick()
	switch {
	case err != nil:
		return "", objField, fmt.Errorf("%s: annotation %s is set on the object (%s) and on its pod template (%s) with different values; keep one",
			w.Locate(objField), key, w.Locate(objField), w.Locate(tmplField))
	case !ok:
		return "", "", nil
	case onObject:
		return value, objField, nil
	}
	return value, tmplField, nil
}

// Allowances are the exceptions the workload's allow annotation
// (exception.AnnotationKey, on the object or its pod template) records
// for t's containers; an error names the file and line of the
// annotations and the object (docs/exceptions.md).
func (w *Workload) Allowances(t *workload.Target) ([]exception.Entry, error) {
	v, field, err := w.Annotation(exception.AnnotationKey)
	if err != nil || field == "" {
		return nil, err
	}
	entries, err := exception.FromAnnotation(t.Namespace, t.Workload, workload.ContainerNames(t.Spec), v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.Locate(field), err)
	}
	return entries, nil
}
