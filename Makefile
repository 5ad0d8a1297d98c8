# Shortcuts for the commands in README.md. Nothing here needs a cloud account.
.PHONY: plan test tools local-up lint

# The main job: the offline plan of the prod stack (no credentials).
plan:
	go run ./cmd/plan --stack prod

# The full test suite, the engine integration tests included (they build or
# reuse the tools in bin/ first: the pinned Pulumi CLI takes minutes cold).
test:
	go test -timeout 30m ./...

# Build, or find at the pinned versions, the Pulumi CLI, the Go language
# host, versitygw, the stand-in provider plugins, the program and the policy
# pack, into the ignored bin/.
tools:
	go run ./cmd/local-up -tools-only

# A real `pulumi up` of prod, onprem and prod again against the stand-in
# cloud, with state in a local S3 server; prints the stack outputs.
local-up:
	go run ./cmd/local-up

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	golangci-lint run ./...
