package main

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// A command's -h lists its own flags first, then the configuration flags
// that every command shares, once, grouped by what they configure.

// configGroups orders the groups of shared flags and names their members by
// json name. A Config field missing here is listed under "other"
// (TestConfigGroupsCoverConfig keeps the table complete).
var configGroups = []struct {
	title string
	names []string
}{
	{"general", []string{"config", "log_level"}},
	{"storage", []string{"data_dir", "backend", "snapshot_keep", "hnsw_m", "hnsw_ef_construction", "hnsw_ef_search", "vector_quantize",
		"weaviate_url", "weaviate_grpc", "weaviate_key", "weaviate_replication", "weaviate_consistency"}},
	{"models", []string{"model", "models_dir", "node_dir", "reranker", "threads", "embed_url", "embed_key",
		"no_batching", "batch_max", "batch_wait", "batch_linger"}},
	{"generation", []string{"generator", "openai_url", "openai_key", "openai_model", "ctx_size", "gpu_layers"}},
	{"server", []string{"addr", "open", "cors_origins", "max_body_bytes", "shutdown_timeout", "pprof_addr", "trusted_proxies", "search_workers", "search_queue", "ai_batch_queue"}},
}

// configFlagNames are the shared flags' names ("data-dir"), from Config's
// json tags as addConfigFlags registers them.
var configFlagNames = func() map[string]bool {
	names := map[string]bool{"config": true}
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		names[strings.ReplaceAll(t.Field(i).Tag.Get("json"), "_", "-")] = true
	}
	return names
}()

// isConfigFlag reports whether a flag name (with "-") is a shared one.
func isConfigFlag(name string) bool { return configFlagNames[name] }

// printCommandUsage writes a command's help: the usage line, its own flags
// as flag.PrintDefaults formats them, and the shared configuration flags,
// one line each, under their groups.
func printCommandUsage(w io.Writer, fs *flag.FlagSet, usageLine string) {
	fmt.Fprintf(w, "Usage: ragd %s\n", usageLine)
	own := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	own.SetOutput(w)
	shared := map[string]*flag.Flag{}
	fs.VisitAll(func(f *flag.Flag) {
		if isConfigFlag(f.Name) {
			shared[f.Name] = f
			return
		}
		own.Var(f.Value, f.Name, f.Usage)
		own.Lookup(f.Name).DefValue = f.DefValue
	})
	if n := countFlags(own); n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		own.PrintDefaults()
	}
	if len(shared) == 0 {
		return
	}
	fmt.Fprintf(w, "\nConfiguration flags, shared by every command (each also RAGD_<NAME> in the\nenvironment or <name> in the config file; a flag wins):\n")
	for _, g := range configGroups {
		printConfigGroup(w, g.title, g.names, shared)
	}
	var rest []string
	for name := range shared {
		rest = append(rest, strings.ReplaceAll(name, "-", "_"))
	}
	printConfigGroup(w, "other", rest, shared)
}

func printConfigGroup(w io.Writer, title string, names []string, shared map[string]*flag.Flag) {
	var lines []string
	for _, n := range names {
		f, ok := shared[strings.ReplaceAll(n, "_", "-")]
		if !ok {
			continue
		}
		delete(shared, f.Name)
		arg, _ := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if arg != "" {
			left += " " + arg
		}
		line := fmt.Sprintf("    %-32s", left)
		switch {
		case f.DefValue == "" || f.DefValue == "0" || f.DefValue == "false" || f.DefValue == "0s":
		case strings.HasSuffix(f.Name, "-key"):
			line += " (set)" // a secret from the environment or config file is not echoed
		default:
			line += " (default " + f.DefValue + ")"
		}
		lines = append(lines, strings.TrimRight(line, " "))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s:\n%s\n", title, strings.Join(lines, "\n"))
}

func countFlags(fs *flag.FlagSet) int {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n
}

// isHelpArg reports whether s asks for help.
func isHelpArg(s string) bool {
	switch s {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// subcommandHelp answers "ragd CMD -h" for a command whose first argument
// names a subcommand: it prints the usage lines and each subcommand's own
// help pointer, and returns errHelp (exit 0).
func subcommandHelp(e *env, cmd string, subs ...string) error {
	fmt.Fprintf(e.stderr, "Usage:\n")
	for _, s := range subs {
		fmt.Fprintf(e.stderr, "  ragd %s %s\n", cmd, s)
	}
	fmt.Fprintf(e.stderr, "\nRun 'ragd %s <subcommand> -h' for a subcommand's flags.\n", cmd)
	return errHelp
}
