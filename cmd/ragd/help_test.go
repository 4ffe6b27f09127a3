package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestCommandHelpListsOwnFlagsBeforeSharedOnes(t *testing.T) {
	cliEnv(t)
	t.Setenv("RAGD_OPENAI_KEY", "sk-secret-value")
	for _, tc := range []struct {
		args []string
		own  []string // flags of the command itself
	}{
		{[]string{"search", "-h"}, []string{"-index", "-mode", "-top-k"}},
		{[]string{"ingest", "--help"}, []string{"-index", "-chunk-size", "-quiet"}},
		{[]string{"keys", "create", "-h"}, []string{"-scope", "-rate"}},
		{[]string{"mcp", "-h"}, []string{"-index", "-read-only"}},
		{[]string{"help", "serve"}, nil},
	} {
		code, out, errOut := ragd(t, "", tc.args...)
		help := out + errOut
		if code != 0 {
			t.Fatalf("ragd %v: exit %d\n%s", tc.args, code, help)
		}
		shared := strings.Index(help, "Configuration flags, shared by every command")
		if shared < 0 {
			t.Fatalf("ragd %v: no shared configuration group:\n%s", tc.args, help)
		}
		for _, f := range tc.own {
			i := strings.Index(help+"\n", "\n  "+f+"\n")
			if j := strings.Index(help, "\n  "+f+" "); i < 0 || (j >= 0 && j < i) {
				i = j
			}
			if i < 0 || i > shared {
				t.Errorf("ragd %v: own flag %s at %d, shared group at %d", tc.args, f, i, shared)
			}
		}
		for _, f := range []string{"--data-dir", "--model", "--openai-key", "--weaviate-url", "--log-level", "--config"} {
			if n := strings.Count(help, "    "+f+" "); n != 1 {
				t.Errorf("ragd %v: shared flag %s listed %d times, want once", tc.args, f, n)
			}
			if strings.Index(help, "    "+f+" ") < shared {
				t.Errorf("ragd %v: shared flag %s before the shared group", tc.args, f)
			}
		}
		for _, group := range []string{"  storage:", "  models:", "  generation:", "  server:"} {
			if !strings.Contains(help, group) {
				t.Errorf("ragd %v: no %q group", tc.args, group)
			}
		}
		if strings.Contains(help, "config data_dir (env") || strings.Contains(help, "sk-secret-value") {
			t.Errorf("ragd %v: old per-flag config lines or a secret in the help:\n%s", tc.args, help)
		}
	}
}

func TestSubcommandHelpExitsZero(t *testing.T) {
	cliEnv(t)
	for _, args := range [][]string{
		{"keys", "-h"}, {"keys", "--help"}, {"keys", "help"}, {"bench", "-h"}, {"bench", "--help"},
		{"snapshot", "-h"}, {"indexes", "-h"}, {"models", "--help"}, {"eval", "-h"}, {"eval", "compare", "-h"},
		{"bench", "ann", "-h"},
	} {
		code, out, errOut := ragd(t, "", args...)
		if code != 0 || !strings.Contains(out+errOut, "Usage") {
			t.Errorf("ragd %v: exit %d, output %q", args, code, out+errOut)
		}
		if strings.Contains(errOut, "unknown") {
			t.Errorf("ragd %v: %q", args, errOut)
		}
	}
	// keys help names its subcommands.
	_, _, errOut := ragd(t, "", "keys", "-h")
	for _, sub := range []string{"keys create", "keys list", "keys revoke"} {
		if !strings.Contains(errOut, sub) {
			t.Errorf("keys -h lacks %q: %s", sub, errOut)
		}
	}
	// A wrong subcommand is still a usage error.
	if code, _, errOut := ragd(t, "", "keys", "frob"); code != 2 || !strings.Contains(errOut, "unknown keys subcommand") {
		t.Errorf("keys frob: exit %d, %q", code, errOut)
	}
}

func TestConfigGroupsCoverConfig(t *testing.T) {
	grouped := map[string]int{}
	for _, g := range configGroups {
		for _, n := range g.names {
			grouped[n]++
		}
	}
	ty := reflect.TypeOf(Config{})
	for i := 0; i < ty.NumField(); i++ {
		name := ty.Field(i).Tag.Get("json")
		if grouped[name] != 1 {
			t.Errorf("config field %s is in %d help groups, want 1", name, grouped[name])
		}
		delete(grouped, name)
	}
	delete(grouped, "config")
	for n := range grouped {
		t.Errorf("help group names %q, which is no Config field", n)
	}
}
