//go:build race

package realtime

// The race detector makes goroutine stacks and allocations larger.
const raceEnabled = true
