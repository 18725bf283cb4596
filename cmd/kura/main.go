// Command kura turns documents into a searchable knowledge base:
// collect → load → split → embed → store → search.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/joho/godotenv"
)

func main() {
	os.Exit(runIO(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line with no input and returns the exit
// status; tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	return runIO(args, strings.NewReader(""), stdout, stderr)
}

// runIO executes one command line reading stdin (kura chat) and returns
// the exit status.
func runIO(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// .env in the working directory is read like the environment; real
	// environment variables win over it.
	loadDotEnv(".env", stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, g := newRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	g.finish(stderr)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if !errors.Is(err, errReported) {
		msg := errorText(err)
		if code == exitUsage && cmd != nil && !strings.Contains(msg, "--help") {
			// Every usage error points at the help of the command that
			// was run, by its full path.
			msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
		}
		fmt.Fprintf(stderr, "kura: %s\n", msg)
	}
	return code
}

// loadDotEnv sets the variables of a .env file that the environment does
// not set already. A malformed line is a warning naming it, not a
// failure: a stray line must not stop every command, --help included.
func loadDotEnv(path string, stderr io.Writer) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		fmt.Fprintf(stderr, "kura: warning: cannot read %s: %v; ignoring it\n", path, unwrapPathErr(err))
		return
	}
	vars, err := godotenv.UnmarshalBytes(data)
	if _, odd := vars[""]; err != nil || odd {
		// Keep the good lines and name the bad ones. (Values spanning
		// lines are only read when the whole file parses.)
		vars = map[string]string{}
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			kv, err := godotenv.Unmarshal(line)
			_, noName := kv[""]
			if err != nil || len(kv) != 1 || noName {
				reason := "not NAME=value"
				if err != nil {
					reason = err.Error()
				}
				fmt.Fprintf(stderr, "kura: warning: %s:%d: ignored (%s); write NAME=value\n", path, i+1, reason)
				continue
			}
			for k, v := range kv {
				vars[k] = v
			}
		}
	}
	for k, v := range vars {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
