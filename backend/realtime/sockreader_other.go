//go:build !linux

package realtime

import (
	"net"
	"syscall"
)

// Elsewhere reads block in the library, as they always did (no idle wait).
func idleRawConn(net.Conn) syscall.RawConn { return nil }

func readNow(syscall.RawConn, []byte) (int, error) { panic("realtime: no idle reads here") }

func waitReadable(syscall.RawConn) error { panic("realtime: no idle waits here") }
