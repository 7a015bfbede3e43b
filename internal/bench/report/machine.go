package report

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Machine describes where figures were measured.
type Machine struct {
	Kernel    string `json:"kernel"`     // "Linux 6.18.0 #1 SMP ... x86_64"
	CPUModel  string `json:"cpu_model"`  // /proc/cpuinfo "model name"
	Cores     int    `json:"cores"`      // logical CPUs usable by the process
	MemoryMiB int64  `json:"memory_mib"` // /proc/meminfo MemTotal
	Go        string `json:"go"`         // the toolchain the command was built with
	// LoadAverage is /proc/loadavg's 1, 5 and 15 minute averages when the
	// run started: other work on the machine skews the figures.
	LoadAverage string `json:"load_average"`
}

// String is a one-line description.
func (m Machine) String() string {
	return fmt.Sprintf("%s; %s, %d cores; %s MiB memory; load average %s at start; %s",
		m.Kernel, m.CPUModel, m.Cores, Thousands(m.MemoryMiB), m.LoadAverage, m.Go)
}

// DescribeMachine reads the description of this machine. What cannot be
// read is "unknown": a description never fails a run.
func DescribeMachine() Machine {
	m := Machine{Kernel: "unknown", CPUModel: "unknown", Cores: runtime.NumCPU(), Go: runtime.Version()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = strings.Join([]string{cstr(u.Sysname[:]), cstr(u.Release[:]), cstr(u.Version[:]), cstr(u.Machine[:])}, " ")
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if v := procField(b, "model name"); v != "" {
			m.CPUModel = v
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemoryMiB = MeminfoKiB(b, "MemTotal") / 1024
	}
	m.LoadAverage = LoadAverage()
	return m
}

// LoadAverage is /proc/loadavg's 1, 5 and 15 minute load averages.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// procField returns the value of the first "key : value" line of a /proc
// file such as /proc/cpuinfo.
func procField(b []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// MeminfoKiB returns the field key ("MemTotal", "Percpu", "Slab") of
// /proc/meminfo content b in KiB, 0 when absent.
func MeminfoKiB(b []byte, key string) int64 {
	v := strings.TrimSuffix(procField(b, key), " kB")
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
