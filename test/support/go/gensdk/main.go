// Command gensdk writes the Go SDK of this package's schema.json the way `pulumi package add`
// makes it for a Go project: Pulumi's own Go code generator, with the package marked for packing
// (its own go.mod, the module path `pulumi package add` gives a local package). It prints the
// module path and the root package's import path as JSON.
//
// Usage: gensdk SCHEMA_JSON OUT_DIR
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

type paths struct {
	Module     string `json:"module"`
	ImportPath string `json:"importPath"`
}

func generate(schemaPath, out string) (paths, error) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return paths{}, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return paths{}, fmt.Errorf("%s: %w", schemaPath, err)
	}
	// The schema refers to no other package, so the loader never starts a plugin.
	pkg, diags, err := schema.BindSpec(spec, schema.NewPluginLoader(nil), schema.ValidationOptions{})
	if err != nil {
		return paths{}, err
	}
	if diags.HasErrors() {
		return paths{}, fmt.Errorf("%s does not bind: %s", schemaPath, diags.Error())
	}
	// What `pulumi package add` sets for every local package (cmd/pulumi/packages).
	pkg.SupportPack = true
	files, err := gogen.GeneratePackage("pulumi-language-go", pkg, nil)
	if err != nil {
		return paths{}, err
	}
	for name, data := range files {
		file := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return paths{}, err
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return paths{}, err
		}
	}
	module, importPath, err := gogen.ModuleAndImportPath(pkg)
	return paths{Module: module, ImportPath: importPath}, err
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gensdk SCHEMA_JSON OUT_DIR")
		os.Exit(2)
	}
	p, err := generate(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensdk:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(p); err != nil {
		fmt.Fprintln(os.Stderr, "gensdk:", err)
		os.Exit(1)
	}
}
