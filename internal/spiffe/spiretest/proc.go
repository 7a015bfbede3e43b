package spiretest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a live (not zombie) process running a SPIRE binary from our bin dir.
type proc struct {
	pid, ppid int
	exe, cwd  string
}

// spireProcs lists the live processes whose executable is in bin.
func spireProcs(bin string) []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readProc(pid)
		if ok && filepath.Dir(p.exe) == bin {
			out = append(out, p)
		}
	}
	return out
}

func readProc(pid int) (proc, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	exe, err := os.Readlink(dir + "/exe")
	if err != nil {
		return proc{}, false // gone, a kernel thread, or a zombie
	}
	stat, err := os.ReadFile(dir + "/stat") //nolint:gosec // G304: a /proc path we built from a pid
	if err != nil {
		return proc{}, false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 2 || fields[0] == "Z" {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	cwd, _ := os.Readlink(dir + "/cwd")
	return proc{
		pid: pid, ppid: ppid,
		exe: strings.TrimSuffix(exe, " (deleted)"),
		cwd: strings.TrimSuffix(cwd, " (deleted)"),
	}, true
}

// ours reports whether p was started by spiretest: spire.Start runs SPIRE
// in the run directory we made for it.
func (p proc) ours() bool { return strings.HasPrefix(filepath.Base(p.cwd), runDirPrefix) }

// reapOrphans kills SPIRE processes left by a spiretest user that died
// without tearing down (a test binary killed by its timeout): they hold the
// fixed sockets and the port. Only runs under the lock, so a process of a
// live user cannot be hit; it also removes the dead user's run directory.
func reapOrphans(bin string) error {
	var killed []proc
	for _, p := range spireProcs(bin) {
		if !p.ours() || p.ppid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("spiretest: kill orphaned %s (pid %d): %w", p.exe, p.pid, err)
		}
		killed = append(killed, p)
	}
	err := waitGone(func() []proc { return stillAlive(killed) })
	for _, p := range killed {
		_ = os.RemoveAll(p.cwd)
	}
	return err
}

// stillAlive returns those of procs that have not exited (or become zombies).
func stillAlive(procs []proc) []proc {
	var out []proc
	for _, p := range procs {
		if now, ok := readProc(p.pid); ok && now.exe == p.exe {
			out = append(out, p)
		}
	}
	return out
}

// waitGone polls until left() is empty: processes we SIGKILLed leave no
// other trace of their exit for us to wait on. After stopTimeout it gives
// up, naming one survivor.
func waitGone(left func() []proc) error {
	deadline := time.Now().Add(stopTimeout)
	for {
		procs := left()
		if len(procs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("spiretest: %s (pid %d) still running %v after SIGKILL", procs[0].exe, procs[0].pid, stopTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// children lists our own live SPIRE child processes.
func children(bin string) []proc {
	var out []proc
	for _, p := range spireProcs(bin) {
		if p.ppid == os.Getpid() {
			out = append(out, p)
		}
	}
	return out
}
