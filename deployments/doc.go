// Package deployments holds the Kubernetes manifests of mip6mesh, laid out
// as networkservicemesh/deployments-k8s lays out its own: apps/ bases,
// examples/<use case>/cluster{1,2,3} overlays, and images/ with the
// Dockerfile. It has no code; its test builds every kustomization and
// checks the manifests against the binaries' configuration, the NSM URL
// syntax and the Dockerfile, since no cluster can run here.
package deployments
