package registration

// Exported for the tests in package registration_test.
var (
	ParseStatCPU = parseStatCPU
	ParseMetrics = func(b []byte) (bindings int, processed map[string]float64) {
		m := parseMetrics(b)
		return m.bindings, m.updatesByCode
	}
	LogValue       = logValue
	KmsgText       = kmsgText
	HomeAddress    = homeAddress
	CareOfAddress  = careOfAddress
	Summarize      = summarize
	CareOfPrefix   = careOfPrefix
	UnroutedPrefix = unroutedPrefix
)

// Range IDs of home addresses.
const (
	FilledRange  = filledRange
	SampledRange = sampledRange
)

// WithUnroutedFrom makes the care-of addresses of filled bindings from
// index i on unroutable for the Home Agent: its data plane refuses them.
func WithUnroutedFrom(c Config, i int) Config {
	c.unroutedFrom = i
	return c
}
