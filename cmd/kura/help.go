package main

import (
	"github.com/spf13/cobra"
)

// newHelpCommand replaces cobra's `help`, which answers `kura help nosuch`
// with the root's help and exit 0: an unknown topic is the same usage
// error (exit 2, with a suggestion) as the unknown command itself.
func newHelpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type kura help [path to command] for full details.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil {
				return &usageError{err}
			}
			// A group (a command with subcommands) left with a word it
			// does not know: its own RunE reports the unknown command.
			if len(rest) > 0 && cmd.HasAvailableSubCommands() && cmd.RunE != nil {
				return cmd.RunE(cmd, rest)
			}
			return cmd.Help()
		},
	}
}
