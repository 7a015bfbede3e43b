package vwire

// ClientEndCount is the number of live entries in the table of client
// ends, for tests that check a connection leaves none behind.
func ClientEndCount() int {
	clientEnds.mu.Lock()
	defer clientEnds.mu.Unlock()
	return len(clientEnds.ends)
}
