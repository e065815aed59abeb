//go:build unix

package main

import "syscall"

// raiseOpenFileLimit lifts the soft limit on open files to the hard limit:
// every WebSocket is a file descriptor, and the usual soft limit of 1024
// would cap one instance far below the connections it can hold.
func raiseOpenFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}
