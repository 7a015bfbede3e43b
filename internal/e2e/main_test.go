package e2e_test

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
)

// binDir holds the daemons built once for all tests.
var binDir string

func TestMain(m *testing.M) { labtest.Main(m, &binDir) }
