// Package nsmtest helps tests run NSM clients and endpoints against an
// in-process nsmdomain: a domain that closes with the test, an endpoint
// served on a unix socket and registered with an nsmgr, a client, and the
// two small elements that place the client's and the endpoint's kernel
// interfaces in test network namespaces (both live in the test process,
// whose own namespace kernel.NewClient/NewServer would otherwise offer).
package nsmtest
