// Package clock lets state machines take their time from a Clock, so that
// tests drive timers with a Fake instead of sleeping.
package clock
