//go:build tools

// Package tools pins the helm command ferrolb's chart tests build, so `go mod tidy`
// keeps its dependencies.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
