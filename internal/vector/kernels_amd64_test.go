//go:build amd64 && !purego

package vector

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestSIMD compares every assembly kernel the CPU can run with the
// reference, whichever one Impl chose.
func TestSIMD(t *testing.T) {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		testKernels(t, kernelSet{"avx2", dot256, l2256, dotU8256, l2U8256})
	} else {
		t.Log("no AVX2+FMA on this CPU; AVX2 kernels not tested")
	}
	if cpu.X86.HasAVX512F {
		testKernels(t, kernelSet{"avx512", dot512, l2512, dotU8512, l2U8512})
	} else {
		t.Log("no AVX-512 on this CPU; AVX-512 kernels not tested")
	}
}
