//go:build openclawdocs

// Copied next to the Go program of docs/multi-language.md (its main.go), this test runs the
// program's deploy function under the Go SDK's mocks and writes each resource the program asks
// the engine to register, as the engine would receive it, to the file OPENCLAW_REGISTRATIONS
// names. The config comes from PULUMI_CONFIG, as the language host passes it.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// registration is what the engine receives: secrets are listed by path and written in plain, so
// that the TypeScript side can send the inputs on through construct() as a YAML program would.
type registration struct {
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Custom  bool           `json:"custom"`
	Remote  bool           `json:"remote"`
	Inputs  map[string]any `json:"inputs"`
	Secrets []string       `json:"secrets"`
}

type recorder struct{ registrations []registration }

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	secrets := []string{}
	inputs := plain(resource.NewObjectProperty(args.Inputs), "", &secrets).(map[string]any)
	sort.Strings(secrets)
	remote := args.RegisterRPC != nil && args.RegisterRPC.GetRemote()
	r.registrations = append(r.registrations, registration{
		Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Remote: remote,
		Inputs: inputs, Secrets: secrets,
	})
	// A component's outputs come from its provider; the program only exports one of them.
	return args.Name + "-id", resource.PropertyMap{"sshCommand": resource.NewStringProperty("ssh -p 22 root@198.51.100.20")}, nil
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("the program called %s; it should call nothing", args.Token)
}

// plain turns a property value into JSON-able data, noting the path of every secret.
func plain(v resource.PropertyValue, at string, secrets *[]string) any {
	switch {
	case v.IsSecret():
		*secrets = append(*secrets, strings.TrimPrefix(at, "."))
		return plain(v.SecretValue().Element, at, secrets)
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)] = plain(e, at+"."+string(k), secrets)
		}
		return out
	case v.IsArray():
		out := []any{}
		for i, e := range v.ArrayValue() {
			out = append(out, plain(e, fmt.Sprintf("%s[%d]", at, i), secrets))
		}
		return out
	case v.IsComputed() || v.IsOutput():
		panic(fmt.Sprintf("%s is unknown: the program's inputs should all be known", at))
	default:
		return v.Mappable()
	}
}

func TestDeploy(t *testing.T) {
	out := os.Getenv("OPENCLAW_REGISTRATIONS")
	if out == "" {
		t.Fatal("OPENCLAW_REGISTRATIONS (the file to write) is not set")
	}
	r := &recorder{}
	if err := pulumi.RunErr(deploy, pulumi.WithMocks("openclaw-go", "dev", r)); err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(r.registrations, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
