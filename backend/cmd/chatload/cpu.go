package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// cpuMeter measures the CPU time that the server process (with -pid), this
// load generator and the whole machine use while sending: they share one
// machine, so what each takes explains where a run saturates, and the
// machine's total shows what other work took.
type cpuMeter struct {
	pid                   int
	server, self, machine time.Duration
	serverOK              bool
	selfOK                bool
	machineOK             bool
}

func (r *runner) startCPU() cpuMeter {
	m := cpuMeter{pid: r.cfg.PID}
	m.self, m.selfOK = selfCPU()
	m.machine, m.machineOK = machineCPU()
	if m.pid > 0 {
		var err error
		m.server, err = procCPU(m.pid)
		m.serverOK = err == nil
	}
	return m
}

// stop adds the cores each process used on average over window: 1.0 is one
// core busy all the time.
func (m cpuMeter) stop(rep *report, window time.Duration) {
	if window <= 0 {
		return
	}
	if m.serverOK {
		if now, err := procCPU(m.pid); err == nil {
			rep.add("server_cpu_cores", round(float64(now-m.server)/float64(window), 2))
		}
	}
	if m.selfOK {
		if now, ok := selfCPU(); ok {
			rep.add("loadgen_cpu_cores", round(float64(now-m.self)/float64(window), 2))
		}
	}
	if m.machineOK {
		if now, ok := machineCPU(); ok {
			rep.add("machine_cpu_cores", round(float64(now-m.machine)/float64(window), 2))
			rep.add("machine_cores", runtime.NumCPU())
		}
	}
}

// machineCPU is the time all CPUs spent busy since boot.
func machineCPU() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	d, err := parseProcStatBusy(b)
	return d, err == nil
}

// parseProcStatBusy returns the busy time of the "cpu" line of /proc/stat:
// every state but idle and iowait (guest time is already in user).
func parseProcStatBusy(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, errors.New("parse /proc/stat: no cpu line")
	}
	var busy int64
	for i, s := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/stat: %w", err)
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return time.Duration(busy) * clockTick, nil
}

func selfCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	return parseProcStatCPU(b)
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every
// Linux architecture (sysconf(_SC_CLK_TCK), which Go cannot call without cgo).
const clockTick = 10 * time.Millisecond

// parseProcStatCPU returns utime + stime (fields 14 and 15) of a
// /proc/<pid>/stat line. The command name, field 2, may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func parseProcStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("parse /proc stat: no command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0, errors.New("parse /proc stat: too few fields")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}
