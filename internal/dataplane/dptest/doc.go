// Package dptest holds the test helpers that the tests of the data-plane
// drivers (seg6 and bpf) share: the three-namespace test topology, the
// baseline a namespace must return to at Close, builders of raw IPv6,
// ICMPv6 echo and tunnelled packets, and assertions on captured tunnel
// traffic. It is for tests only.
package dptest
