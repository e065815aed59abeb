package store_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any goroutine outlives its test: every
// store started by a test (and its group-commit goroutine) must be stopped
// by Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
