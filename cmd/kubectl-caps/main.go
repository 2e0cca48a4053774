package main

import (
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/spf13/cobra"
	_ "k8s.io/api/core/v1"
	_ "k8s.io/cli-runtime/pkg/genericclioptions"
	_ "k8s.io/cli-runtime/pkg/resource"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	_ "k8s.io/client-go/tools/pager"
	_ "k8s.io/pod-security-admission/policy"
	_ "sigs.k8s.io/yaml"
	_ "github.com/google/go-cmp/cmp"
)

func main() {}
