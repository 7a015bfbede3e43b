package registration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
)

// userHZ is the unit of the times in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux architecture).
const userHZ = 100

// cpuSeconds returns utime+stime of process pid ("self" for this one) from
// /proc/<pid>/stat, in seconds.
func cpuSeconds(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat") //nolint:gosec // G304: a /proc file of a process we started
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads fields 14 (utime) and 15 (stime) of a /proc/<pid>/stat
// line. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func parseStatCPU(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat %q: no command name", b)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime is field 14, f[11].
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc stat: utime %q, stime %q", f[11], f[12])
	}
	return float64(utime+stime) / userHZ, nil
}

// rssKiB returns VmRSS of process pid from /proc/<pid>/status.
func rssKiB(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status") //nolint:gosec // G304: a /proc file of a process we started
	if err != nil {
		return 0, err
	}
	v := report.MeminfoKiB(b, "VmRSS")
	if v == 0 {
		return 0, fmt.Errorf("/proc/%s/status: no VmRSS", pid)
	}
	return v, nil
}

// kernelMemory returns Percpu and Slab of /proc/meminfo, KiB.
func kernelMemory() (percpu, slab int64) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	return report.MeminfoKiB(b, "Percpu"), report.MeminfoKiB(b, "Slab")
}

// kernelLog follows the kernel log (/dev/kmsg) from the moment it is
// opened, for evidence of why the kernel refused a route.
type kernelLog struct{ fd int }

// kernelEvidence selects the kernel messages worth quoting.
var kernelEvidence = []string{"allocation failed", "percpu", "out of memory"}

// openKernelLog returns nil when the log cannot be read (no CAP_SYSLOG).
func openKernelLog() *kernelLog {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	if _, err := unix.Seek(fd, 0, io.SeekEnd); err != nil {
		_ = unix.Close(fd)
		return nil
	}
	return &kernelLog{fd: fd}
}

// evidence reads the messages logged since the last call and returns the
// distinct ones about failed allocations (at most limit) and how often
// each appeared.
func (k *kernelLog) evidence(limit int) []string {
	if k == nil {
		return nil
	}
	counts := map[string]int{}
	var order []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(k.fd, buf)
		if errors.Is(err, unix.EPIPE) {
			continue // records were overwritten; go on with the next
		}
		if err != nil || n <= 0 {
			break
		}
		msg := kmsgText(buf[:n])
		if !slices.ContainsFunc(kernelEvidence, func(s string) bool { return strings.Contains(msg, s) }) {
			continue
		}
		if counts[msg] == 0 && len(order) < limit {
			order = append(order, msg)
		}
		counts[msg]++
	}
	out := make([]string, len(order))
	for i, msg := range order {
		out[i] = fmt.Sprintf("%s (%d×)", msg, counts[msg])
	}
	return out
}

// kmsgText is the message of a /dev/kmsg record "prio,seq,usec,flags;text\n...".
func kmsgText(rec []byte) string {
	_, text, _ := bytes.Cut(rec, []byte(";"))
	text, _, _ = bytes.Cut(text, []byte("\n"))
	return strings.TrimSpace(string(text))
}

func (k *kernelLog) close() {
	if k != nil {
		_ = unix.Close(k.fd)
	}
}
