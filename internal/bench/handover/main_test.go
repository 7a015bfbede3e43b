package handover_test

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
)

// binDir holds the daemons TestMain builds.
var binDir string

func TestMain(m *testing.M) { labtest.Main(m, &binDir) }
