// Package services holds the manifest (mesh.toml) for the Go implementations, compiled
// into their binaries: they read their default ports from the same file as the Python
// services, with no path to find at run time.
package services

import _ "embed"

// Manifest is services/mesh.toml as it was when the binary was built.
//
//go:embed mesh.toml
var Manifest []byte
