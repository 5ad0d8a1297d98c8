package versions

// Kubectl runs the program's own wait Jobs (components/doks: the Route CRD).
// Checked: k8s.io/kubernetes v1.35.4 build/common.sh lists the kubectl image
// among the release images (KUBE_DOCKER_REGISTRY registry.k8s.io), and
// build/server-image/kubectl/Dockerfile makes /bin/kubectl its entrypoint, so
// the Job passes kubectl arguments only (no shell). `kubectl wait
// --for=create` is in k8s.io/kubectl v0.35.4 pkg/cmd/wait. The tag matches
// the Kubernetes minor the stacks run (within kubectl's one-minor skew of
// DOKS). unverified: the image is pulled from registry.k8s.io, which is not
// reachable from here.
var Kubectl = Image{Repository: "registry.k8s.io/kubectl", Tag: "v1.35.4"}
