package realtime

import (
	"io"
	"net"
	"os"
	"syscall"
)

func idleRawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil // e.g. TLS: reads block in the library
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// readNow reads what the socket holds, without waiting: errIdle when it
// holds nothing.
func readNow(raw syscall.RawConn, p []byte) (int, error) {
	var n int
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), p)
			if rerr != syscall.EINTR {
				return true
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case rerr == syscall.EAGAIN:
		return 0, errIdle
	case rerr != nil:
		return 0, os.NewSyscallError("read", rerr)
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

// waitReadable parks until the socket has bytes, its end or an error, or
// it is closed. It peeks: the netpoller's readiness is reset on entry, so
// bytes that came before must be seen by looking.
func waitReadable(raw syscall.RawConn) error {
	var b [1]byte
	return raw.Read(func(fd uintptr) bool {
		for {
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
			if err != syscall.EINTR {
				return err != syscall.EAGAIN
			}
		}
	})
}
