package main

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/local"
)

func newBackupCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "backup OUT",
		Short: "Write a consistent copy of the whole data directory to one archive",
		Long: `Write every collection (rows, indexes), the embedding cache and every other
file of the data directory to OUT, a tar archive with a manifest of checksums:
gzip-compressed if OUT ends in .tar.gz or .tgz, plain if it ends in .tar, and
gzip to standard output if OUT is -. Other kura processes keep reading and
writing meanwhile; a writer waits only while its collection's file is copied.
The archive is written under a temporary name and renamed when complete.`,
		Args: args(cobra.ExactArgs(1), "the OUT archive (a .tar.gz, .tgz or .tar file, or - for standard output)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBackup(cmd, g, args[0])
		},
	}
}

func newRestoreCommand(g *globalOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore IN",
		Short: "Restore a data directory from an archive written by kura backup",
		Long: `Unpack IN (written by kura backup; - reads standard input) beside the data
directory, verify every file against the manifest's checksums and every
collection's format, and only then put it in place. An existing data directory
that holds files is replaced only with --force. Stop other kura processes
using the data directory first.`,
		Args: args(cobra.ExactArgs(1), "the IN archive written by kura backup (or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd, g, args[0], force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace a data directory that already holds data")
	return cmd
}

func runBackup(cmd *cobra.Command, g *globalOptions, out string) (err error) {
	if g.Store != "local" {
		return &usageError{errors.New("kura backup copies the embedded store's data directory; back up a Milvus server with its own tools")}
	}
	gz := out == "-" || strings.HasSuffix(out, ".tar.gz") || strings.HasSuffix(out, ".tgz")
	if !gz && !strings.HasSuffix(out, ".tar") {
		return &usageError{fmt.Errorf("backup archive %q: name it *.tar.gz, *.tgz or *.tar (or - for standard output)", out)}
	}
	st, err := local.Open(g.DataDir, local.Options{ReadOnly: true, OnWait: waitNotice(cmd.ErrOrStderr())})
	if err != nil {
		return err
	}
	defer st.Close()

	var w io.Writer = cmd.OutOrStdout()
	var f *os.File
	if out != "-" {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-"+hex.EncodeToString(rnd[:]))
		if f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fmt.Errorf("cannot write the backup: %w", err)
		}
		defer func() {
			if err != nil {
				f.Close()
				os.Remove(tmp)
			}
		}()
		w = f
	}
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(w)
		w = zw
	}
	m, err := local.Backup(cmd.Context(), g.DataDir, w, local.BackupOptions{Store: st})
	if err != nil {
		return fmt.Errorf("backup of %s failed: %w", g.absData(), err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), out); err != nil {
			return fmt.Errorf("cannot write the backup: %w", err)
		}
	}
	var rows, bytes int64
	for _, c := range m.Collections {
		rows += c.Rows
	}
	for _, f := range m.Files {
		bytes += f.Size
	}
	report := cmd.ErrOrStderr()
	if out != "-" {
		report = cmd.OutOrStdout()
	}
	fmt.Fprintf(report, "backed up %s: %d %s (%d rows), %d files, %.1f MB → %s\n", g.absData(),
		len(m.Collections), countNoun(len(m.Collections), "collection", "collections"), rows, len(m.Files), float64(bytes)/1e6, out)
	for _, s := range m.Skipped {
		fmt.Fprintf(cmd.ErrOrStderr(), "skipped %s: %s; run the backup again when it is free\n", s.Path, s.Reason)
	}
	if len(m.Skipped) > 0 {
		return &partialError{msg: fmt.Sprintf("%d %s skipped", len(m.Skipped), countNoun(len(m.Skipped), "file", "files"))}
	}
	return nil
}

func runRestore(cmd *cobra.Command, g *globalOptions, in string, force bool) error {
	if g.Store != "local" {
		return &usageError{errors.New("kura restore writes the embedded store's data directory, not a Milvus server")}
	}
	var r io.Reader = cmd.InOrStdin()
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return fmt.Errorf("cannot read the backup: %w", err)
		}
		defer f.Close()
		r = f
	}
	m, err := local.Restore(cmd.Context(), r, g.DataDir, local.RestoreOptions{Force: force})
	if errors.Is(err, store.ErrExists) {
		return &usageError{fmt.Errorf("%s already holds data; restore into an empty or new --data directory, or pass --force to replace it", g.absData())}
	}
	if err != nil {
		return fmt.Errorf("restore from %s failed, %s is unchanged: %w", in, g.absData(), err)
	}
	var rows int64
	for _, c := range m.Collections {
		rows += c.Rows
	}
	fmt.Fprintf(cmd.OutOrStdout(), "restored %s from %s (made %s): %d %s (%d rows), %d files, all checksums match\n",
		g.absData(), in, m.Created.Local().Format("2006-01-02 15:04:05"), len(m.Collections), countNoun(len(m.Collections), "collection", "collections"), rows, len(m.Files))
	return nil
}

func countNoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// waitNotice turns a store's wait for another process into one line on w.
func waitNotice(w io.Writer) func(local.WaitEvent) {
	return func(e local.WaitEvent) {
		what := "its write to finish"
		if e.Write {
			what = "it to finish its current operation"
		}
		fmt.Fprintf(w, "waiting for another kura process using collection %s (waiting for %s; Ctrl-C to stop)…\n", e.Collection, what)
	}
}
