package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/version"
)

func newVersionCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print kura's version, commit and Go version",
		Args:  args(cobra.NoArgs, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				return newJSONEncoder(cmd.OutOrStdout()).Encode(version.Get())
			}
			fmt.Fprintln(cmd.OutOrStdout(), version.Get())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// setVersion gives the root command --version, printing the same line.
func setVersion(root *cobra.Command) {
	root.Version = version.Get().Version
	root.SetVersionTemplate(version.Get().String() + "\n")
}
