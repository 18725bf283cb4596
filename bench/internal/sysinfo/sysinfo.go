// Package sysinfo gives the bench harnesses the machine description and
// memory figures they print next to every measurement, read from /proc
// (Linux only; elsewhere the fields are left empty or zero).
package sysinfo

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a figure was measured.
type Machine struct {
	GoVersion  string  `json:"go_version"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	CPU        string  `json:"cpu"`
	Load1      float64 `json:"load1"` // 1-minute load average when the run started
}

// Describe returns the current machine's description.
func Describe() Machine {
	return Machine{
		GoVersion:  runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPU:        cpuModel(),
		Load1:      load1(),
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(first, 64)
	return v
}

// PeakRSSMiB returns the process's peak resident set size (VmHWM) in MiB.
func PeakRSSMiB() float64 { return statusMiB("VmHWM") }

// RSSMiB returns the current resident memory split into anonymous memory
// (the Go heap and stacks) and file-backed pages (mostly the store's mmap),
// in MiB. The kernel can drop clean file pages under pressure; it cannot
// drop anonymous ones without swap.
func RSSMiB() (anon, file float64) { return statusMiB("RssAnon"), statusMiB("RssFile") }

// ProcessPeakRSSMiB returns the peak resident set size (VmHWM) of process
// pid in MiB (a server the harness started).
func ProcessPeakRSSMiB(pid int) float64 {
	return procStatusMiB("/proc/"+strconv.Itoa(pid)+"/status", "VmHWM")
}

// statusMiB reads one "kB" line of /proc/self/status, in MiB.
func statusMiB(key string) float64 { return procStatusMiB("/proc/self/status", key) }

func procStatusMiB(path, key string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// ResetPeakRSS asks the kernel to restart VmHWM from the current RSS
// (writing "5" to /proc/self/clear_refs), so that each run of a harness
// reports its own peak rather than the process's. It reports whether the
// kernel accepted; if not, peaks are cumulative over the process.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
