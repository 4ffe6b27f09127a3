package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/ragd/ragd/api/auth"
)

func init() {
	register(&command{name: "keys", summary: "create, list and revoke API keys", run: runKeys})
}

func keyStore(e *env) (*auth.Store, error) {
	return auth.OpenStore(filepath.Join(e.cfg.DataDir, keysFile))
}

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErr("usage: ragd keys create|list|revoke ...")
	}
	if isHelpArg(args[0]) {
		return subcommandHelp(e, "keys", "create --scope read|write|admin [--name N] [--rate R] [--burst B]", "list [--json]", "revoke ID")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "create":
		fs := newFlags(e, "keys create", "keys create --scope read|write|admin [--name N] [--rate R] [--burst B]")
		scope := fs.String("scope", "read", "read, write or admin")
		name := fs.String("name", "", "a label for the key")
		rate := fs.Float64("rate", 0, "requests per second (0: unlimited)")
		burst := fs.Int("burst", 0, "burst size (default: ceil(rate))")
		if _, err := parseFlags(fs, rest); err != nil {
			return err
		}
		sc, err := auth.ParseScope(*scope)
		if err != nil {
			return usageErr("%v", err)
		}
		st, err := keyStore(e)
		if err != nil {
			return err
		}
		secret, k, err := st.Create(*name, sc, *rate, *burst)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, secret)
		fmt.Fprintf(e.stderr, "created key %s (scope %s); it is shown only once: store it now\n", k.ID, k.Scope)
		return nil
	case "list":
		fs := newFlags(e, "keys list", "keys list [--json]")
		asJSON := fs.Bool("json", false, "JSON output")
		if _, err := parseFlags(fs, rest); err != nil {
			return err
		}
		st, err := keyStore(e)
		if err != nil {
			return err
		}
		keys := st.List()
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(keys)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tCREATED\tRATE\tSTATUS")
		for _, k := range keys {
			status, rl := "active", "-"
			if k.Revoked {
				status = "revoked"
			}
			if k.Rate > 0 {
				rl = fmt.Sprintf("%g/s burst %d", k.Rate, k.Burst)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Scope, k.CreatedAt.Format("2006-01-02 15:04:05Z"), rl, status)
		}
		return tw.Flush()
	case "revoke":
		fs := newFlags(e, "keys revoke", "keys revoke ID")
		ids, err := parseFlags(fs, rest)
		if err != nil {
			return err
		}
		if len(ids) != 1 {
			return usageErr("usage: ragd keys revoke ID (see ragd keys list)")
		}
		st, err := keyStore(e)
		if err != nil {
			return err
		}
		if err := st.Revoke(ids[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s\n", ids[0])
		return nil
	}
	return usageErr("unknown keys subcommand %q (create, list, revoke)", args[0])
}
