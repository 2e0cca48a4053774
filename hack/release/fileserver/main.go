// Command fileserver serves a directory over HTTP on a free loopback port and
// prints its base URL (http://127.0.0.1:PORT/) as the only line on stdout.
// The release tests use it in place of GitHub's release downloads, so that
// krew installs the plugin by name from a local index and
// validate-krew-manifest runs its own install of every platform, offline.
//
//	fileserver DIR
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fileserver DIR")
		os.Exit(2)
	}
	// Port 0: the kernel picks a free port, so parallel runs cannot collide.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "fileserver: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("http://%s/\n", ln.Addr())
	if err := http.Serve(ln, http.FileServer(http.Dir(os.Args[1]))); err != nil {
		fmt.Fprintf(os.Stderr, "fileserver: %v\n", err)
		os.Exit(1)
	}
}
