// Package citecheck holds one test, run by `make test-unit` (go test ./...):
// no tracked file of the project may cite a source its users do not have.
//
// The project was built from a working fact file outside the repository; its
// name, its section ids and paths into the shared directory next to the
// repository mean nothing to a user (the patterns are in the test). Every fact is cited instead by its upstream source or by
// an anchor of docs/sources.md, and this test also checks that every such
// anchor exists. It lives in its own package because it reads the whole
// repository rather than testing one package's code.
package citecheck
