// Command gensdk writes the SDK of this package's schema.json the way `pulumi package add` makes
// it for a Go or a Python project: Pulumi's own code generator for that language, with the
// package marked for packing (for Go, its own go.mod and the module path `pulumi package add`
// gives a local package). It prints, as JSON, the Go module path and the root package's import
// path, or the Python package's name.
//
// Usage: gensdk [-language go|python] SCHEMA_JSON OUT_DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	pygen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

type paths struct {
	Module     string `json:"module,omitempty"`
	ImportPath string `json:"importPath,omitempty"`
	Package    string `json:"package,omitempty"`
}

func generate(language, schemaPath, out string) (paths, error) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return paths{}, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return paths{}, fmt.Errorf("%s: %w", schemaPath, err)
	}
	// The schema refers to no other package, so the loader never starts a plugin.
	loader := schema.NewPluginLoader(nil)
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
	if err != nil {
		return paths{}, err
	}
	if diags.HasErrors() {
		return paths{}, fmt.Errorf("%s does not bind: %s", schemaPath, diags.Error())
	}
	// What `pulumi package add` sets for every local package (cmd/pulumi/packages).
	pkg.SupportPack = true
	var files map[string][]byte
	switch language {
	case "go":
		files, err = gogen.GeneratePackage("pulumi-language-go", pkg, nil)
	case "python":
		files, err = pygen.GeneratePackage("pulumi-language-python", pkg, nil, loader)
	default:
		err = fmt.Errorf("-language %q: accepted are go and python", language)
	}
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
	if language == "python" {
		return paths{Package: pygen.PyPack(pkg.Namespace, pkg.Name)}, nil
	}
	module, importPath, err := gogen.ModuleAndImportPath(pkg)
	return paths{Module: module, ImportPath: importPath}, err
}

func main() {
	language := flag.String("language", "go", "the SDK's language: go or python")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: gensdk [-language go|python] SCHEMA_JSON OUT_DIR")
		os.Exit(2)
	}
	p, err := generate(*language, flag.Arg(0), flag.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensdk:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(p); err != nil {
		fmt.Fprintln(os.Stderr, "gensdk:", err)
		os.Exit(1)
	}
}
