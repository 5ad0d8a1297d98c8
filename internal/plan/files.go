package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Project is the part of Pulumi.yaml the plan reads.
type Project struct {
	Name    string                `yaml:"name"`
	Runtime any                   `yaml:"runtime"`
	Backend struct{ URL string }  `yaml:"backend"`
	Config  map[string]ConfigDecl `yaml:"config"`
	Extra   map[string]any        `yaml:",inline"`
}

// ConfigDecl is one project config entry: a declared key of this project
// (type, default), or a value for another namespace (Value), such as
// pulumi:disable-default-providers.
type ConfigDecl struct {
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
	Secret      bool   `yaml:"secret"`
	Default     any    `yaml:"default"`
	Value       any    `yaml:"value"`
	Items       any    `yaml:"items"`
}

// FindProjectDir walks up from dir to the directory holding Pulumi.yaml.
func FindProjectDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no Pulumi.yaml found in this directory or any parent")
		}
		dir = parent
	}
}

// ReadProject reads Pulumi.yaml.
func ReadProject(dir string) (*Project, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	var p Project
	if err := yaml.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("reading Pulumi.yaml: %w", err)
	}
	return &p, nil
}

// configValue is one stack config value as the Pulumi CLI hands it to the
// program: scalars as text, objects and arrays as JSON.
type configValue struct {
	Value  string
	Secure bool // a `secure:` entry, which the plan cannot decrypt
}

// ReadStackConfig reads the config block of a Pulumi.<stack>.yaml file.
func readStackConfig(path string) (map[string]configValue, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]configValue{}
	for k, v := range doc.Config {
		cv, err := toConfigValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, k, err)
		}
		out[k] = cv
	}
	return out, nil
}

func toConfigValue(v any) (configValue, error) {
	switch t := v.(type) {
	case string:
		return configValue{Value: t}, nil
	case map[string]any:
		if s, ok := t["secure"]; ok && len(t) == 1 {
			if _, isString := s.(string); isString {
				return configValue{Secure: true}, nil
			}
		}
		if containsSecure(t) {
			return configValue{}, errors.New("secure values nested in objects are not supported: keep each secret in its own key")
		}
	case []any:
		if containsSecure(t) {
			return configValue{}, errors.New("secure values nested in arrays are not supported")
		}
	case nil:
		return configValue{Value: ""}, nil
	default:
		return configValue{Value: fmt.Sprint(t)}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return configValue{}, err
	}
	return configValue{Value: string(b)}, nil
}

func containsSecure(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "secure" || containsSecure(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if containsSecure(e) {
				return true
			}
		}
	}
	return false
}

// qualify adds the project namespace to a bare key, as the Pulumi CLI does.
func qualify(project, key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return project + ":" + key
}
