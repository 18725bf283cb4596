package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// defaultHealthURL is where the container image's kura serve answers.
const defaultHealthURL = "http://127.0.0.1:8080/healthz"

// newHealthcheckCommand is a probe for container HEALTHCHECKs: the image
// has no shell and no curl, so kura checks its own server.
func newHealthcheckCommand() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck [URL]",
		Short: "Exit 0 if a running kura serve answers its health check (for container HEALTHCHECKs)",
		Long: `Send GET URL (default ` + defaultHealthURL + `) and exit 0 if it
answers 200, 1 otherwise. Container images without a shell or curl use it as
their HEALTHCHECK. /healthz needs no API key.`,
		Example: `  kura healthcheck
  kura healthcheck http://127.0.0.1:9090/readyz`,
		Args: args(cobra.MaximumNArgs(1), "at most one URL"),
		RunE: func(cmd *cobra.Command, a []string) error {
			target := defaultHealthURL
			if len(a) == 1 {
				target = a[0]
			}
			if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return &usageError{fmt.Errorf("healthcheck URL %q: give an http:// or https:// URL such as %s", target, defaultHealthURL)}
			}
			if timeout <= 0 {
				return &usageError{fmt.Errorf("--timeout %s must be positive", timeout)}
			}
			return probeHealth(cmd.Context(), target, timeout, cmd.OutOrStdout())
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

func probeHealth(ctx context.Context, target string, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	// No proxy: the probe is about this machine's server, whatever
	// HTTP_PROXY the container was given for the providers.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s is not answering: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", target, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(out, "%s: %s\n", target, resp.Status)
	return nil
}
