package provider

import (
	"fmt"
	"strings"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/common/auth"
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
