//go:build unix

package local

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an advisory lock on f (flock: per open file description,
// so two descriptors conflict even within one process) without waiting.
// It reports whether the lock was taken.
func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH | syscall.LOCK_NB
	if exclusive {
		how = syscall.LOCK_EX | syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, err
		}
	}
}

// unlock releases f's lock.
func unlock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// preLocksRows reports whether the rows file is locked by kura itself
// before bbolt sees it: flock lets bbolt's own lock call on the same
// descriptor succeed at once, so kura can wait for it in its own way
// (cancellable, visible, with writer priority).
const preLocksRows = true
