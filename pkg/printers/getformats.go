package printers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	cliprinters "k8s.io/cli-runtime/pkg/printers"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// The formats of `kubectl get -o` that audit takes too, as -o's help
// writes them; a format with "=" takes its argument after it
// (-o jsonpath='{.items[*].container}').
const (
	FormatName              = "name"
	FormatJSONPath          = "jsonpath=TEMPLATE"
	FormatJSONPathFile      = "jsonpath-file=FILE"
	FormatJSONPathAsJSON    = "jsonpath-as-json=TEMPLATE"
	FormatCustomColumns     = "custom-columns=SPEC"
	FormatCustomColumnsFile = "custom-columns-file=FILE"
)

// ReportPrinter prints a whole report in one of kubectl get's formats on
// out; errOut takes what cannot be printed there (-o name's notes).
type ReportPrinter func(out, errOut io.Writer, rep *report.Report) error

// NewReportPrinter returns the printer for -o name, jsonpath=,
// jsonpath-file=, jsonpath-as-json=, custom-columns= or
// custom-columns-file=, with its template read and parsed, so that a bad
// template fails before anything is printed. It returns nil for any other
// format (the table, json, yaml; or an unknown one, which the -o flag's
// check reports). The templates walk the document of version
// (report.Versions): -o json's with --report-version.
func NewReportPrinter(output string, noHeaders bool, version string) (ReportPrinter, error) {
	if output == FormatName {
		return writeNames, nil
	}
	format, arg, hasArg := strings.Cut(output, "=")
	if !hasArg {
		// The table, json, yaml, or a format without its '=' (-o jsonpath).
		return nil, nil
	}
	switch format {
	case "jsonpath", "jsonpath-file", "jsonpath-as-json":
		return newJSONPath(format, arg, version)
	case "custom-columns", "custom-columns-file":
		cols, err := parseColumns(format, arg)
		if err != nil {
			return nil, err
		}
		return func(out, _ io.Writer, rep *report.Report) error {
			return writeColumns(out, cols, noHeaders, rep.Items, version)
		}, nil
	}
	return nil, nil
}

// ObjectName is how kubectl's `-o name` names a built-in workload: the
// kind in lower case with its API group, as cli-runtime's NamePrinter
// writes it (k8s.io/cli-runtime/pkg/printers/name.go, printObj), e.g.
// "deployment.apps/web", "pod/web". It is false for any other kind (a
// custom resource with a pod template): the report does not carry its API
// group, and a guess can name another object (Knative's Service/hello
// read as the core service/hello).
func ObjectName(ref workload.Ref) (string, bool) {
	k, ok := workload.Lookup(ref.Kind)
	if !ok {
		return "", false
	}
	kind := strings.ToLower(k.Name)
	if k.Group != "" {
		kind += "." + k.Group
	}
	return kind + "/" + ref.Name, true
}

// writeNames prints one line per workload, in the order of their first
// rows: kubectl's `-o name`, without the namespace, as kubectl writes it
// for every namespace too; so it pipes into `kubectl get -n NS $(...)`. A
// custom resource is left out with a note on errOut (ObjectName).
func writeNames(out, errOut io.Writer, rep *report.Report) error {
	var b bytes.Buffer
	seen := map[[3]string]bool{}
	for i := range rep.Items {
		it := &rep.Items[i]
		key := [3]string{it.Namespace, it.Workload.Kind, it.Workload.Name}
		if seen[key] {
			continue
		}
		seen[key] = true
		if name, ok := ObjectName(it.Workload); ok {
			b.WriteString(safetext.Quote(name) + "\n")
		} else {
			fmt.Fprintf(errOut, "Note: -o name leaves out %s/%s/%s: the report does not carry a custom resource's API group, so kubectl's name for it is unknown "+
				"(-o custom-columns=NAMESPACE:.namespace,KIND:.workload.kind,NAME:.workload.name lists it)\n",
				safetext.Quote(it.Namespace), safetext.Quote(it.Workload.Kind), safetext.Quote(it.Workload.Name))
		}
	}
	_, err := out.Write(b.Bytes())
	return err
}

// newJSONPath is kubectl's -o jsonpath over the report, through
// cli-runtime's JSONPathPrinter with missing keys allowed, as kubectl get
// sets it (--allow-missing-template-keys defaults to true). The template
// sees the document -o json prints: {.items[*].workload.name}.
func newJSONPath(format, tmpl, version string) (ReportPrinter, error) {
	if tmpl == "" {
		return nil, fmt.Errorf("%s needs a template after '=', e.g. -o jsonpath='{.items[*].container}'", format)
	}
	if format == "jsonpath-file" {
		b, err := os.ReadFile(tmpl)
		if err != nil {
			return nil, fmt.Errorf("reading the template: %v", err)
		}
		tmpl = string(b)
	}
	p, err := cliprinters.NewJSONPathPrinter(tmpl)
	if err != nil {
		return nil, fmt.Errorf("parsing the template %q: %v", tmpl, err)
	}
	p.AllowMissingKeys(true)
	p.EnableJSONOutput(format == "jsonpath-as-json")
	return func(out, _ io.Writer, rep *report.Report) error {
		obj, err := unstructuredReport(rep.Items, version)
		if err != nil {
			return err
		}
		return p.PrintObj(obj, out)
	}, nil
}

// unstructuredReport is the report of version as the generic tree the
// JSONPath printers walk, converted field by field through the JSON tags
// (integers stay integers: a UID prints as 1000000, not 1e+06).
func unstructuredReport(items []report.Item, version string) (*unstructured.Unstructured, error) {
	var doc any = &report.Report{APIVersion: report.New().APIVersion, Kind: report.Kind, Items: items}
	if version == report.Version2 {
		lean, err := report.NewLeanReport(items)
		if err != nil {
			return nil, err
		}
		doc = lean
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(doc)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// column is one of -o custom-columns' columns. Its path is evaluated
// through cli-runtime's JSONPathPrinter, which embeds client-go's JSONPath
// (FindResults), as kubectl's printers do; printers import no client-go
// package directly (hack/archcheck).
type column struct {
	header string
	path   *cliprinters.JSONPathPrinter
}

// parseColumns reads a custom-columns spec (HEADER:PATH,...) or file (a
// line of headers, then a line of paths, both split on blanks) as kubectl
// does (k8s.io/kubectl/pkg/cmd/get/customcolumn.go, v0.37.2,
// NewCustomColumnsPrinterFromSpec and NewCustomColumnsPrinterFromTemplate).
// The paths are over one item: NS:.namespace,RISK:.maxRisk. kubectl's
// printer itself is not imported: its package is kubectl's whole get
// command (its cmd/util, rawhttp and scheme).
func parseColumns(format, arg string) ([]column, error) {
	var headers, paths []string
	switch format {
	case "custom-columns-file":
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("reading the columns file: %v", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for _, into := range []*[]string{&headers, &paths} {
			if !sc.Scan() {
				return nil, fmt.Errorf("%s: the file needs a line of headers, then a line of paths, split by blanks", arg)
			}
			*into = strings.Fields(sc.Text())
		}
		if len(headers) != len(paths) {
			return nil, fmt.Errorf("%s: %d headers but %d paths", arg, len(headers), len(paths))
		}
	default:
		if arg == "" {
			return nil, fmt.Errorf("custom-columns needs columns after '=', e.g. -o custom-columns=NS:.namespace,WORKLOAD:.workload.name,RISK:.maxRisk")
		}
		for _, part := range strings.Split(arg, ",") {
			h, p, ok := strings.Cut(part, ":")
			if !ok {
				return nil, fmt.Errorf("column %q is not HEADER:PATH, e.g. RISK:.maxRisk", part)
			}
			headers, paths = append(headers, h), append(paths, p)
		}
	}
	cols := make([]column, len(headers))
	for i, p := range paths {
		expr, err := relaxedJSONPath(p)
		if err != nil {
			return nil, err
		}
		jp, err := cliprinters.NewJSONPathPrinter(expr)
		if err != nil {
			return nil, fmt.Errorf("column %s: %q: %v", headers[i], p, err)
		}
		jp.AllowMissingKeys(true)
		cols[i] = column{header: headers[i], path: jp}
	}
	return cols, nil
}

var relaxedPath = regexp.MustCompile(`^\{\.?([^{}]+)\}$|^\.?([^{}]+)$`)

// relaxedJSONPath accepts a column's path as kubectl's
// RelaxedJSONPathExpression does: .a.b, a.b, {a.b} and {.a.b} are all
// {.a.b}.
func relaxedJSONPath(p string) (string, error) {
	m := relaxedPath.FindStringSubmatch(p)
	if m == nil {
		return "", fmt.Errorf("column path %q is not .NAME.NAME (or {.NAME.NAME})", p)
	}
	return "{." + m[1] + m[2] + "}", nil
}

// writeColumns prints one line per item, as kubectl's CustomColumnsPrinter
// does: cli-runtime's tab writer, "<none>" for a missing field, the values
// of a list joined by commas. Where kubectl only defuses terminal escapes
// (cliprinters.EscapeTerminal), each value is safetext.Quote'd, so that a
// line break or a "::" in a value forges no line. No item, no header:
// kubectl prints nothing for no objects either.
func writeColumns(out io.Writer, cols []column, noHeaders bool, items []report.Item, version string) error {
	if len(items) == 0 {
		return nil
	}
	w := cliprinters.GetNewTabWriter(out)
	if !noHeaders {
		headers := make([]string, len(cols))
		for i, c := range cols {
			headers[i] = c.header
		}
		fmt.Fprintln(w, strings.Join(headers, "\t"))
	}
	obj, err := unstructuredReport(items, version)
	if err != nil {
		return err
	}
	list, _ := obj.Object["items"].([]any)
	for _, item := range list {
		fields := make([]string, len(cols))
		for i, c := range cols {
			results, err := c.path.FindResults(item)
			if err != nil {
				return fmt.Errorf("column %s: %v", c.header, err)
			}
			var values []string
			for _, r := range results {
				for _, v := range r {
					values = append(values, safetext.Quote(fmt.Sprint(v.Interface())))
				}
			}
			if len(values) == 0 {
				values = []string{"<none>"}
			}
			fields[i] = strings.Join(values, ",")
		}
		fmt.Fprintln(w, strings.Join(fields, "\t"))
	}
	return w.Flush()
}
