//go:build !unix

package local

import "os"

// On systems without flock the gate files are not used: collections are
// locked by bbolt alone, which waits for them by polling.

func tryLock(f *os.File, exclusive bool) (bool, error) { return true, nil }

func unlock(f *os.File) error { return nil }

const preLocksRows = false
