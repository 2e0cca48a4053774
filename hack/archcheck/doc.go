// Package archcheck holds the test that keeps the package graph of
// docs/architecture.md true: data flows source → engine → report →
// printer, and the command package is wiring.
package archcheck
