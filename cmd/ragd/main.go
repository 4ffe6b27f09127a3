// Command ragd is a self-hosted RAG and semantic-search service: ingest
// files, search them by keywords, vectors or both, and answer questions
// with citations — from the command line or over a REST API.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// env is what every command gets: its streams and the resolved config.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	cfg            Config
}

// exitError carries an exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func runMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return runCommand(ctx, c, []string{"-h"}, stdin, stdout, stderr)
			}
		}
		usage(stdout)
		return 0
	}
	if args[0] == "--version" || args[0] == "-v" {
		args[0] = "version"
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ragd: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return runCommand(ctx, c, args[1:], stdin, stdout, stderr)
}

func runCommand(ctx context.Context, c *command, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(args)
	if err != nil {
		fmt.Fprintf(stderr, "ragd %s: %v\n", c.name, err)
		return 2
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, cfg: cfg}
	err = c.run(ctx, e, args)
	if err == nil {
		return 0
	}
	if errors.Is(err, errHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "ragd %s: %v\n", c.name, ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "ragd %s: %v\n", c.name, err)
	return exitCode(err)
}

// exitCode maps errors to statuses: 2 usage/bad input, 3 not found,
// 4 unavailable dependency, 5 data dir locked by another process, 1
// anything else (e.g. `check` found indexes that disagree).
func exitCode(err error) int {
	switch {
	case errors.Is(err, index.ErrLocked):
		return exitLocked
	case errors.Is(err, errUsage), errors.Is(err, data.ErrInvalid), errors.Is(err, data.ErrDimension),
		errors.Is(err, data.ErrModelMismatch), errors.Is(err, data.ErrTooLarge), errors.Is(err, data.ErrUnsupported):
		return 2
	case errors.Is(err, data.ErrNotFound):
		return 3
	case errors.Is(err, data.ErrUnavailable):
		return 4
	case errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}

// exitLocked is the exit status when another process (a running server)
// holds the data dir.
const exitLocked = 5

var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help requested")
)

func usage(w io.Writer) {
	fmt.Fprintf(w, "ragd %s — self-hosted RAG and semantic search\n\nUsage: ragd <command> [flags] [args]\n\nCommands:\n", version)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'ragd <command> -h' for a command's flags. Configuration: flags, then RAGD_* environment\nvariables, then the config file (--config, RAGD_CONFIG, or %s).\n", strings.Replace(defaultConfigPath(), os.Getenv("HOME"), "~", 1))
}
