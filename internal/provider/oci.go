package provider

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/common/auth"
	"github.com/oracle/oci-go-sdk/v65/generativeaiinference"
)

// OCIConfig is how a client finds and authenticates to OCI Generative
// AI. The callers' configuration documents the environment variables
// that fill it (COMPARTMENT_ID, OCI_CONFIG_FILE, OCI_CONFIG_PROFILE,
// OCI_REGION).
type OCIConfig struct {
	// Auth is "config" (default: an API key from the OCI config file) or
	// "instance_principal" (the instance's own identity, on OCI compute
	// in a dynamic group).
	Auth string
	// ConfigFile and Profile locate the API key ("" means ~/.oci/config
	// and DEFAULT); a profile is a [NAME] section of the file, such as
	// [CHICAGO].
	ConfigFile string
	Profile    string
	// CompartmentID is the OCID of the compartment billed for the calls.
	CompartmentID string
	// Region selects the public endpoint when no endpoint is configured;
	// "" means the profile's region.
	Region string
}

// ConfigurationProvider returns the OCI SDK credentials o describes,
// checked for completeness. The errors name what to fix.
func (o OCIConfig) ConfigurationProvider() (common.ConfigurationProvider, error) {
	switch strings.ToLower(o.Auth) {
	case "", "config", "api_key":
		profile := o.Profile
		if profile == "" {
			profile = "DEFAULT"
		}
		file := o.ConfigFile
		if file == "" {
			file = "~/.oci/config"
		}
		p, err := common.ConfigurationProviderFromFileWithProfile(file, profile, "")
		if err != nil {
			return nil, fmt.Errorf("cannot read OCI config %s, profile %s: %v; set OCI_CONFIG_FILE and OCI_CONFIG_PROFILE, or use instance_principal authentication on an OCI instance", file, profile, err)
		}
		if ok, err := common.IsConfigurationProviderValid(p); !ok {
			return nil, fmt.Errorf("OCI config %s, profile %s is incomplete: %v (it needs user, tenancy, fingerprint, key_file and region)", file, profile, err)
		}
		return p, nil
	case "instance_principal", "instanceprincipal":
		p, err := auth.InstancePrincipalConfigurationProvider()
		if err != nil {
			return nil, fmt.Errorf("instance principal authentication failed (is this an OCI compute instance in a dynamic group?): %v", err)
		}
		return p, nil
	default:
		return nil, fmt.Errorf("OCI authentication %q: use config or instance_principal", o.Auth)
	}
}

// GenAIClient returns the OCI Generative AI client o describes, for the
// embedder and the chat client alike. endpoint, if set, replaces the
// region's public endpoint (endpointName says where it came from, for the
// error); requests go through [HTTPClient](base), so failures are
// classified like every provider's. The SDK's circuit breaker is off: a
// breaker that opens after a burst of 429s would turn a slow-down into a
// failure. Its retries are switched off per request (common.NoRetryPolicy),
// as the [Retrier] retries.
func (o OCIConfig) GenAIClient(endpoint, endpointName string, base *http.Client) (generativeaiinference.GenerativeAiInferenceClient, error) {
	var client generativeaiinference.GenerativeAiInferenceClient
	creds, err := o.ConfigurationProvider()
	if err != nil {
		return client, err
	}
	client, err = generativeaiinference.NewGenerativeAiInferenceClientWithConfigurationProvider(creds)
	if err != nil {
		return client, fmt.Errorf("cannot create the OCI Generative AI client: %v", err)
	}
	switch {
	case endpoint != "":
		ep, err := ParseEndpoint(endpoint, endpointName)
		if err != nil {
			return client, err
		}
		client.Host = ep
	case o.Region != "":
		client.SetRegion(o.Region)
	}
	client.HTTPClient = HTTPClient(base)
	client.Configuration.CircuitBreaker = nil
	return client, nil
}

// OCIServingMode is how a request names its model: a model name on
// demand, or a dedicated AI cluster's endpoint OCID
// ("ocid1.generativeaiendpoint...").
func OCIServingMode(model string) generativeaiinference.ServingMode {
	if strings.HasPrefix(model, "ocid1.generativeaiendpoint") {
		return generativeaiinference.DedicatedServingMode{EndpointId: common.String(model)}
	}
	return generativeaiinference.OnDemandServingMode{ModelId: common.String(model)}
}
