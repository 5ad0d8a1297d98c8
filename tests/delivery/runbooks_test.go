package delivery

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
)

// The runbooks issue 7 asks for, by file.
var runbooks = []string{
	"bring-up.md",                // from nothing: state bucket, credentials, secrets, stack order
	"routine-change.md",          // PR, preview, approval, up
	"do-outage.md",               // what fails over, what to check, fail-back
	"velero-restore.md",          // restore a cluster from Velero
	"database-pitr.md",           // point-in-time recovery of the database
	"replace-talos-node.md",      // replace a Talos node
	"rotate-keys.md",             // WireGuard and Spaces keys
	"state-lock.md",              // a stuck state lock
	"upgrade-talos.md",           // issue 18: Talos node by node, then Kubernetes
	"decommission-talos-node.md", // issue 18: a node out of the cluster for good
	"resize-doks-pool.md",        // issue 18: a workload pool's size without a new cluster
	"restore-talos-etcd.md",      // issue 18: a lost control plane from an etcd snapshot
}

// Pulumi CLI commands (v3) the runbooks may use: top level, and the second
// word of the command groups.
var pulumiCommands = map[string][]string{
	"cancel": nil, "destroy": nil, "import": nil, "login": nil, "logout": nil, "preview": nil,
	"refresh": nil, "up": nil, "version": nil, "whoami": nil,
	"stack": {"change-secrets-provider", "export", "graph", "history", "import", "init", "ls", "output",
		"rename", "rm", "select", "tag", "unselect"},
	"config": {"cp", "get", "refresh", "rm", "set"},
	"state":  {"delete", "edit", "move", "protect", "rename", "repair", "unprotect", "upgrade"},
}

// docFiles are the operator documents: README.md and everything in docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	root := repoRoot(t)
	require.NoError(t, filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	}))
	return files
}

// shellLines are the lines of a document's sh code blocks, with backslash
// continuations joined.
func shellLines(doc string) []string {
	var out []string
	in := false
	var cur strings.Builder
	for line := range strings.SplitSeq(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```sh":
			in = true
		case in && trimmed == "```":
			in = false
		case in:
			if strings.HasSuffix(trimmed, "\\") {
				cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
				continue
			}
			cur.WriteString(trimmed)
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	return out
}

func TestRunbooksExist(t *testing.T) {
	index := readFile(t, "docs/README.md")
	for _, name := range runbooks {
		body := readFile(t, "docs/runbooks/"+name)
		assert.Contains(t, index, "runbooks/"+name, "docs/README.md lists %s", name)
		assert.Contains(t, body, "```sh", "%s gives commands", name)
	}
	readme := readFile(t, "README.md")
	for _, ref := range []string{"docs/delivery.md", "docs/runbooks/", ".github/workflows/", "go run ./cmd/bootstrap-state"} {
		assert.Contains(t, readme, ref)
	}
}

// Every `go run ./cmd/X --flag` names a command and flags that exist.
func TestRunbookGoCommandsExist(t *testing.T) {
	// The flags are every -x/--x word up to the end of the command (a pipe,
	// a list operator or a redirection): a value such as "-" (stdin) must
	// not end the check early.
	goRun := regexp.MustCompile(`go run \./cmd/([a-z-]+)([^|;&>]*)`)
	flagName := regexp.MustCompile(`(?:^|\s)--?([a-z][a-z-]*)`)
	seen := 0
	for _, f := range docFiles(t) {
		for _, line := range shellLines(readFile(t, f)) {
			for _, m := range goRun.FindAllStringSubmatch(line, -1) {
				seen++
				flags, err := commandFlags(repoRoot(t), m[1])
				if !assert.NoError(t, err, "%s: go run ./cmd/%s", f, m[1]) {
					continue
				}
				for _, fm := range flagName.FindAllStringSubmatch(m[2], -1) {
					assert.Contains(t, flags, fm[1], "%s: go run ./cmd/%s has no flag --%s", f, m[1], fm[1])
				}
			}
		}
	}
	assert.Positive(t, seen)
}

// commandFlags lists the flags a cmd/NAME command defines, in its own files
// and in the internal package whose Main it calls.
func commandFlags(root, name string) ([]string, error) {
	dir := filepath.Join(root, "cmd", name)
	main, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil {
		return nil, err
	}
	dirs := []string{dir}
	for _, m := range regexp.MustCompile(`"github\.com/hybridcloud/platform/(internal/[a-z]+)"`).FindAllStringSubmatch(string(main), -1) {
		dirs = append(dirs, filepath.Join(root, m[1]))
	}
	define := regexp.MustCompile(`(?:fs|flag)\.(?:String|Bool|Int|Duration)\("([a-z-]+)"`)
	var flags []string
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				return nil, err
			}
			for _, m := range define.FindAllStringSubmatch(string(src), -1) {
				flags = append(flags, m[1])
			}
		}
	}
	return append(flags, "h", "help"), nil
}

// Every `pulumi ...` command is one the CLI has.
func TestRunbookPulumiCommandsExist(t *testing.T) {
	cmd := regexp.MustCompile(`(?:^|[\s;(|&])pulumi\s+([a-z-]+)(?:\s+([a-z-]+))?`)
	seen := map[string]bool{}
	for _, f := range docFiles(t) {
		for _, line := range shellLines(readFile(t, f)) {
			for _, m := range cmd.FindAllStringSubmatch(line, -1) {
				subs, ok := pulumiCommands[m[1]]
				if !assert.True(t, ok, "%s: pulumi %s is not a command the runbooks may use:\n%s", f, m[1], line) {
					continue
				}
				if subs != nil {
					assert.Contains(t, subs, m[2], "%s: pulumi %s %s:\n%s", f, m[1], m[2], line)
				}
				seen[m[1]] = true
			}
		}
	}
	for _, c := range []string{"preview", "up", "refresh", "cancel", "stack", "config"} {
		assert.True(t, seen[c], "no runbook uses pulumi %s", c)
	}
}

// Secrets set by the runbooks are secret keys the program reads, config
// paths are declared in Pulumi.yaml, and bring-up names every secret the
// stacks read. The program's list (config.SecretSpecs) is the reference:
// Pulumi.yaml cannot flag the secrets only one stack reads
// (docs/configuration.md).
func TestRunbookConfigKeysAreDeclared(t *testing.T) {
	var project struct {
		Config map[string]struct{} `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(readFile(t, "Pulumi.yaml")), &project))
	isSecret := func(key string) bool {
		return slices.ContainsFunc(config.SecretSpecs, func(s config.SecretSpec) bool { return s.Key == key })
	}

	secretSet := regexp.MustCompile(`pulumi config set --secret ([A-Za-z]+)`)
	pathSet := regexp.MustCompile(`pulumi config set --path ([A-Za-z]+)\.`)
	for _, f := range docFiles(t) {
		for _, line := range shellLines(readFile(t, f)) {
			for _, m := range secretSet.FindAllStringSubmatch(line, -1) {
				assert.True(t, isSecret(m[1]), "%s: %s is not a secret key the program reads", f, m[1])
				assert.Contains(t, project.Config, m[1], "%s: %s is not declared in Pulumi.yaml", f, m[1])
			}
			for _, m := range pathSet.FindAllStringSubmatch(line, -1) {
				assert.Contains(t, project.Config, m[1], "%s: config key %s", f, m[1])
			}
		}
	}

	bringUp := readFile(t, "docs/runbooks/bring-up.md")
	for _, spec := range config.SecretSpecs {
		assert.Contains(t, bringUp, spec.Key, "bring-up.md must say how to set the secret %s", spec.Key)
	}
}

// Workflow files the documents name exist.
func TestDocumentWorkflowsExist(t *testing.T) {
	ref := regexp.MustCompile("(?:workflows/|workflow (?:run |enable |disable |view )?|--workflow |`)([a-z-]+\\.yml)")
	for _, f := range docFiles(t) {
		for _, m := range ref.FindAllStringSubmatch(readFile(t, f), -1) {
			_, err := os.Stat(filepath.Join(repoRoot(t), ".github", "workflows", m[1]))
			assert.NoError(t, err, "%s names %s", f, m[1])
		}
	}
}

// ageCommands are the flags of filippo.io/age v1.2.1's two commands:
// cmd/age/age.go:119-136 and cmd/age-keygen/keygen.go:65-68.
var ageCommands = map[string][]string{
	"age": {"version", "d", "decrypt", "e", "encrypt", "p", "passphrase", "o", "output", "a", "armor",
		"r", "recipient", "R", "recipients-file", "i", "identity", "j"},
	"age-keygen": {"version", "y", "o", "output"},
}

// commandWords splits the shell line at each use of tool and returns the
// words that follow it, up to a pipe, list operator, redirection or
// command substitution's end; a <placeholder> is one word.
func commandWords(line, tool string) [][]string {
	line = placeholder.ReplaceAllString(line, "X")
	use := regexp.MustCompile(`(?:^|[\s;(|&])` + regexp.QuoteMeta(tool) + `\s+([^|;&>)#]*)`)
	var out [][]string
	for _, m := range use.FindAllStringSubmatch(line, -1) {
		out = append(out, strings.Fields(m[1]))
	}
	return out
}

// flagName is the name of a -x or --xyz[=value] word, or "" (age's flags
// are single-dash).
func flagName(w string) string {
	if !strings.HasPrefix(w, "-") || w == "-" {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
	return name
}

// Every age and age-keygen command in a shell block uses flags the pinned
// age release has.
func TestRunbookAgeCommandsExist(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range docFiles(t) {
		for _, line := range shellLines(readFile(t, f)) {
			for tool, flags := range ageCommands {
				for _, words := range commandWords(line, tool) {
					seen[tool] = true
					for _, w := range words {
						if name := flagName(w); name != "" {
							assert.Contains(t, flags, name, "%s: %s has no flag -%s:\n%s", f, tool, name, line)
						}
					}
				}
			}
		}
	}
	assert.True(t, seen["age"], "the etcd restore decrypts with age")
	assert.True(t, seen["age-keygen"], "the bring-up makes the etcd backup key with age-keygen")
}

// The etcd restore decrypts with age and bootstraps from the decrypted
// file, not from the encrypted download.
func TestEtcdRestoreRunbookChain(t *testing.T) {
	var decrypted, recovered string
	for _, line := range shellLines(readFile(t, "docs/runbooks/restore-talos-etcd.md")) {
		for _, words := range commandWords(line, "age") {
			if slices.Contains(words, "-d") {
				for i, w := range words {
					if w == "-o" && i+1 < len(words) {
						decrypted = words[i+1]
					}
				}
			}
		}
		if _, v, ok := strings.Cut(line, "--recover-from="); ok {
			recovered = strings.Fields(v)[0]
		}
	}
	require.NotEmpty(t, decrypted, "age -d ... -o <file>")
	require.NotEmpty(t, recovered, "talosctl bootstrap --recover-from=<file>")
	assert.Equal(t, "./"+strings.TrimPrefix(decrypted, "./"), "./"+strings.TrimPrefix(recovered, "./"))
}
