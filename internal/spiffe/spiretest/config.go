package spiretest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Version is the SPIRE release the tests run against.
const Version = "1.13.3"

// DirEnv names the environment variable that overrides DefaultDir.
const DirEnv = "MIP6MESH_SPIRE_DIR"

// ErrNotInstalled is returned when the SPIRE binaries are missing.
var ErrNotInstalled = errors.New("SPIRE binaries not found: run `bash ci/spire.sh` (it builds them in about 5 minutes)")

// Dir returns the SPIRE directory: $MIP6MESH_SPIRE_DIR, or
// ~/.cache/mip6mesh/spire-v1.13.3 — where ci/spire.sh puts its bin/.
func Dir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("spiretest: no %s and no home directory: %w", DirEnv, err)
	}
	return filepath.Join(home, ".cache", "mip6mesh", "spire-v"+Version), nil
}

// BinDir returns Dir()/bin after checking that spire-server and spire-agent
// are there; the error wraps ErrNotInstalled and names the directory.
func BinDir() (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "bin")
	for _, name := range []string{"spire-server", "spire-agent"} {
		fi, err := os.Stat(filepath.Join(bin, name))
		if err != nil || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("spiretest: %w (%s has no executable %s; %s=%q)", ErrNotInstalled, bin, name, DirEnv, os.Getenv(DirEnv))
		}
	}
	return bin, nil
}

// cache_reload_interval: the server serves entries to agents from a cache
// it reloads every 5 s by default; 500 ms brings the first SVID seconds sooner.
const serverConf = `server {
    bind_address = "127.0.0.1"
    bind_port = "%[2]d"
    trust_domain = "%[3]s"
    data_dir = "%[1]s/server-data"
    log_level = "WARN"
    ca_key_type = "ec-p256"
    ca_subject = {
        country = ["US"],
        organization = ["mip6mesh spiretest"],
        common_name = "",
    }
    experimental {
        cache_reload_interval = "500ms"
    }
}

plugins {
    DataStore "sql" {
        plugin_data {
            database_type = "sqlite3"
            connection_string = "%[1]s/server-data/datastore.sqlite3"
        }
    }
    NodeAttestor "join_token" {
        plugin_data {}
    }
    KeyManager "memory" {
        plugin_data = {}
    }
}
`

// The agent keeps the default Workload API socket path: spire.Start's
// health check looks there. workload_size_limit = -1: never hash the
// workload binary (test binaries are tens of MB and we select by path).
// sync_interval: the agent's first sync with the server, which brings the
// entries and their SVIDs, comes after 5 s by default; 500 ms brings the
// first SVID (and entries added later) that much sooner.
const agentConf = `agent {
    data_dir = "%[1]s/agent-data"
    log_level = "WARN"
    server_address = "127.0.0.1"
    server_port = "%[2]d"
    insecure_bootstrap = true
    trust_domain = "%[3]s"
    experimental {
        sync_interval = "500ms"
    }
}

plugins {
    NodeAttestor "join_token" {
        plugin_data {}
    }
    KeyManager "memory" {
        plugin_data {}
    }
    WorkloadAttestor "unix" {
        plugin_data {
            discover_workload_path = true
            workload_size_limit = -1
        }
    }
}
`
