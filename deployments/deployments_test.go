package deployments_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kelseyhightower/envconfig"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/common"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/tools/nsurl"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.yaml.in/yaml/v3"

	"github.com/mip6mesh/mip6mesh/internal/cli"
	"github.com/mip6mesh/mip6mesh/internal/identity"
)

// kustomizeInstall is how ci/test.sh provides kustomize: pinned, because a
// version list is not always served, and v5.8.2 because v5.8.3 needs go1.27.
const kustomizeInstall = "GOBIN=$(go env GOPATH)/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2"

const (
	nsmAnnotation = "networkservicemesh.io"
	spireCSI      = "csi.spiffe.io"
	floating      = "examples/floating-interdomain"
)

// ---------------------------------------------------------------- the tests

// TestKustomizationsBuild builds every kustomization and checks that each
// object in the output is a named Kubernetes object.
func TestKustomizationsBuild(t *testing.T) {
	for dir, objs := range builtObjects(t) {
		if len(objs) == 0 {
			t.Errorf("%s: kustomize build gave no objects", dir)
		}
		for _, o := range objs {
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: object without apiVersion, kind or metadata.name: %+v", dir, o.Metadata)
			}
		}
	}
}

// TestEveryYAMLFileParses covers the files no kustomization includes
// (kind configurations, the ClusterSPIFFEID, the webhook patch).
func TestEveryYAMLFileParses(t *testing.T) {
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		if _, err := decodeFile(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestContainersMatchTheBinaries checks each container that runs a
// mip6mesh image against the Dockerfile and the binary's configuration.
func TestContainersMatchTheBinaries(t *testing.T) {
	images := dockerImages(t)
	n := 0
	for dir, objs := range builtObjects(t) {
		for _, o := range objs {
			spec := o.podSpec()
			if spec == nil {
				continue
			}
			for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
				where := fmt.Sprintf("%s: %s %s container %s", dir, o.Kind, o.Metadata.Name, c.Name)
				entry, ours := images[c.Image]
				if !ours {
					checkThirdPartyImage(t, where, c.Image)
					continue
				}
				n++
				checkCommand(t, where, c, entry)
				checkEnv(t, where, c, configOf(t, entry))
				checkSockets(t, where, c, spec)
			}
		}
	}
	if n == 0 {
		t.Fatal("no container runs a mip6mesh image")
	}
}

// TestNetworkServiceURLsParse checks every NSM URL, in annotations and in
// NSM_NETWORK_SERVICES, with the sdk's parser: a kernel interface with a
// name the kernel accepts, for a service the examples serve.
func TestNetworkServiceURLsParse(t *testing.T) {
	n := 0
	for dir, objs := range builtObjects(t) {
		for _, o := range objs {
			for _, u := range o.networkServiceURLs() {
				n++
				checkNSURL(t, fmt.Sprintf("%s: %s %s", dir, o.Kind, o.Metadata.Name), u)
			}
		}
	}
	if n == 0 {
		t.Fatal("no NSM URL found")
	}
}

// TestAdmissionWebhookPatch checks that the webhook would inject nsc-mobile
// with variables nsc-mobile knows.
func TestAdmissionWebhookPatch(t *testing.T) {
	objs, err := decodeFile("apps/nsc-mobile-annotated/patch-admission-webhook.yaml")
	if err != nil {
		t.Fatal(err)
	}
	images := dockerImages(t)
	env := envMap(objs[0].Spec.Template.Spec.Containers[0].Env)
	entry, ok := images[env["NSM_CONTAINER_IMAGES"]]
	if !ok || entry[0] != "/nsc-mobile" {
		t.Fatalf("NSM_CONTAINER_IMAGES %q is not the Dockerfile's nsc-mobile image", env["NSM_CONTAINER_IMAGES"])
	}
	known := configOf(t, entry)
	for kv := range strings.SplitSeq(env["NSM_ENVS"], ",") {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := known[name]; !ok {
			t.Errorf("NSM_ENVS sets %s, which nsc-mobile does not read", name)
		}
	}
}

// TestFloatingInterdomainAgrees checks that the three clusters of the
// example name the same service, that the policy gives the client's
// identity the home address the README pings, and that the kind clusters
// are IPv6 and allow the Home Agent's sysctl.
func TestFloatingInterdomainAgrees(t *testing.T) {
	objs := builtObjects(t)
	mn := findContainer(t, objs[floating+"/cluster1"], "Deployment", "nsc-mobile", "nsc-mobile")
	ha := findContainer(t, objs[floating+"/cluster2"], "Deployment", "nse-homeagent", "nse")
	haEnv := envMap(ha.c.Env)

	u, err := url.Parse(envMap(mn.c.Env)["NSM_NETWORK_SERVICES"])
	if err != nil {
		t.Fatal(err)
	}
	service := (*nsurl.NSURL)(u).NetworkService()
	if haEnv["NSM_SERVICE_NAMES"] != service {
		t.Errorf("client asks for %q, Home Agent serves NSM_SERVICE_NAMES=%q", service, haEnv["NSM_SERVICE_NAMES"])
	}
	name, domain, _ := strings.Cut(service, "@")
	if !strings.HasSuffix(haEnv["NSM_NAME"], "@"+domain) || haEnv["NSM_REGISTER_SERVICE"] != "false" {
		t.Errorf("Home Agent NSM_NAME=%q NSM_REGISTER_SERVICE=%q: want a name @%s and false",
			haEnv["NSM_NAME"], haEnv["NSM_REGISTER_SERVICE"], domain)
	}
	checkNetworkService(t, objs[floating+"/cluster3"], name)

	hoa := checkPolicy(t, mn, haEnv)
	readme := readFile(t, floating+"/README.md")
	if !strings.Contains(readme, "ping -c 4 "+hoa.String()) {
		t.Errorf("README does not ping the home address %s that the policy assigns", hoa)
	}
	checkReadmePaths(t, readme)
	checkKindConfigs(t, ha.spec)
}

// -------------------------------------------------------- kustomize builds

var buildAllOnce = sync.OnceValues(buildAll)

// builtObjects runs `kustomize build` once per kustomization directory
// (relative to this package) and returns each output decoded.
func builtObjects(t *testing.T) map[string][]object {
	t.Helper()
	builds, err := buildAllOnce()
	if err != nil {
		t.Fatal(err)
	}
	return builds
}

func buildAll() (map[string][]object, error) {
	bin, err := kustomizeBinary()
	if err != nil {
		return nil, err
	}
	dirs, err := kustomizationDirs()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]object, len(dirs))
	for _, dir := range dirs {
		cmd := exec.Command(bin, "build", dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %w: %s", dir, err, stderr.String())
		}
		if out[dir], err = decodeAll(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("kustomize build %s: output: %w", dir, err)
		}
	}
	return out, nil
}

// kustomizeBinary finds kustomize in $KUSTOMIZE, on PATH or where
// ci/test.sh installs it. Missing kustomize fails the test: the manifests
// would otherwise go unchecked.
func kustomizeBinary() (string, error) {
	if p := os.Getenv("KUSTOMIZE"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("kustomize"); err == nil {
		return p, nil
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "kustomize")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("kustomize not found in $KUSTOMIZE, on PATH or at %s; install it with: %s", p, kustomizeInstall)
}

func kustomizationDirs() ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return err
	})
	if err == nil && len(dirs) == 0 {
		err = errors.New("no kustomization.yaml under deployments/")
	}
	return dirs, err
}

// ------------------------------------------------------------- the objects

// object is the part of a Kubernetes object the checks read.
type object struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       struct {
		podSpec  `yaml:",inline"` // a Pod
		Template struct {         // a Deployment
			Metadata objectMeta `yaml:"metadata"`
			Spec     podSpec    `yaml:"spec"`
		} `yaml:"template"`
		Payload     string `yaml:"payload"` // a NetworkService
		PodSelector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"podSelector"` // a ClusterSPIFFEID
		SPIFFEIDTemplate string `yaml:"spiffeIDTemplate"`
	} `yaml:"spec"`
	// A kind cluster configuration.
	Networking struct {
		IPFamily string `yaml:"ipFamily"`
	} `yaml:"networking"`
	Nodes []struct {
		Role string `yaml:"role"`
	} `yaml:"nodes"`
	KubeadmConfigPatches []string `yaml:"kubeadmConfigPatches"`
}

type objectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type podSpec struct {
	ServiceAccountName string      `yaml:"serviceAccountName"`
	InitContainers     []container `yaml:"initContainers"`
	Containers         []container `yaml:"containers"`
	Volumes            []struct {
		Name string `yaml:"name"`
		CSI  *struct {
			Driver string `yaml:"driver"`
		} `yaml:"csi"`
		HostPath *struct {
			Path string `yaml:"path"`
		} `yaml:"hostPath"`
	} `yaml:"volumes"`
	SecurityContext struct {
		Sysctls []struct {
			Name string `yaml:"name"`
		} `yaml:"sysctls"`
	} `yaml:"securityContext"`
}

type container struct {
	Name         string   `yaml:"name"`
	Image        string   `yaml:"image"`
	Command      []string `yaml:"command"`
	Env          []envVar `yaml:"env"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom any    `yaml:"valueFrom"`
}

// podSpec is the spec of the pods o runs, or nil.
func (o *object) podSpec() *podSpec {
	switch o.Kind {
	case "Pod":
		return &o.Spec.podSpec
	case "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job":
		return &o.Spec.Template.Spec
	}
	return nil
}

// networkServiceURLs are the NSM URLs o's pods ask for.
func (o *object) networkServiceURLs() []string {
	spec := o.podSpec()
	if spec == nil {
		return nil
	}
	var urls []string
	for _, meta := range []objectMeta{o.Metadata, o.Spec.Template.Metadata} {
		if a, ok := meta.Annotations[nsmAnnotation]; ok {
			urls = append(urls, strings.Split(a, ",")...)
		}
	}
	for _, c := range spec.Containers {
		if v, ok := envMap(c.Env)["NSM_NETWORK_SERVICES"]; ok {
			urls = append(urls, strings.Split(v, ",")...)
		}
	}
	return urls
}

func decodeFile(p string) ([]object, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeAll(f)
}

// decodeAll decodes every document of a YAML stream; unknown fields are
// allowed, since object only names what the checks read.
func decodeAll(r io.Reader) ([]object, error) {
	dec := yaml.NewDecoder(r)
	var objs []object
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(objs)+1, err)
		}
		objs = append(objs, o)
	}
}

func envMap(env []envVar) map[string]string {
	m := make(map[string]string, len(env))
	for _, e := range env {
		m[e.Name] = e.Value
	}
	return m
}

type found struct {
	c    container
	spec *podSpec
	meta objectMeta
}

func findContainer(t *testing.T, objs []object, kind, name, containerName string) found {
	t.Helper()
	for _, o := range objs {
		if o.Kind != kind || o.Metadata.Name != name {
			continue
		}
		spec := o.podSpec()
		for _, c := range spec.Containers {
			if c.Name == containerName {
				return found{c: c, spec: spec, meta: o.Spec.Template.Metadata}
			}
		}
	}
	t.Fatalf("no %s %s with a container %s", kind, name, containerName)
	return found{}
}

// -------------------------------------------------------------- containers

// Both lines of the Dockerfile's header that build an image, e.g.
// "#   docker build -f deployments/images/Dockerfile --target nsc-mobile -t ghcr.io/mip6mesh/nsc-mobile:dev ."
var (
	dockerBuildLine = regexp.MustCompile(`(?m)^#\s+docker build .*--target (\S+) -t (\S+) \.$`)
	dockerStage     = regexp.MustCompile(`(?m)^FROM \S+ AS (\S+)$`)
	dockerEntry     = regexp.MustCompile(`(?m)^ENTRYPOINT (\[.*\])$`)
	dockerCopy      = regexp.MustCompile(`(?m)^COPY --from=build (.+) /$`)
)

// dockerImages maps each image the Dockerfile builds to its entrypoint,
// after checking that the entrypoint is a binary the build stage builds and
// the final stage copies.
func dockerImages(t *testing.T) map[string][]string {
	t.Helper()
	df := readFile(t, "images/Dockerfile")
	entrypoints := stageEntrypoints(t, df)
	copied := dockerCopy.FindStringSubmatch(df)
	if copied == nil {
		t.Fatal("images/Dockerfile: no COPY --from=build ... / line")
	}
	images := map[string][]string{}
	for _, m := range dockerBuildLine.FindAllStringSubmatch(df, -1) {
		target, image := m[1], m[2]
		entry, ok := entrypoints[target]
		if !ok {
			t.Fatalf("images/Dockerfile: header builds --target %s, which has no ENTRYPOINT stage", target)
		}
		bin := path.Base(entry[0])
		if !slices.Contains(strings.Fields(copied[1]), "/out/"+bin) || !strings.Contains(df, "./cmd/"+bin) {
			t.Fatalf("images/Dockerfile: entrypoint %s of %s is not built and copied", entry[0], target)
		}
		images[image] = entry
	}
	if len(images) == 0 {
		t.Fatal("images/Dockerfile: no `# docker build --target T -t IMAGE .` line in its header")
	}
	return images
}

func stageEntrypoints(t *testing.T, df string) map[string][]string {
	t.Helper()
	stages := dockerStage.FindAllStringSubmatchIndex(df, -1)
	out := map[string][]string{}
	for i, s := range stages {
		end := len(df)
		if i+1 < len(stages) {
			end = stages[i+1][0]
		}
		m := dockerEntry.FindStringSubmatch(df[s[0]:end])
		if m == nil {
			continue
		}
		var entry []string
		if err := json.Unmarshal([]byte(m[1]), &entry); err != nil || len(entry) == 0 {
			t.Fatalf("images/Dockerfile: ENTRYPOINT %s: not a JSON array of strings", m[1])
		}
		out[df[s[2]:s[3]]] = entry
	}
	return out
}

// checkThirdPartyImage requires a pinned tag: the mip6mesh images are only
// the ones the Dockerfile builds.
func checkThirdPartyImage(t *testing.T, where, image string) {
	t.Helper()
	if strings.Contains(image, "/mip6mesh/") {
		t.Errorf("%s: image %s is not one the Dockerfile builds", where, image)
		return
	}
	_, tag, ok := strings.Cut(path.Base(image), ":")
	if !ok || tag == "latest" {
		t.Errorf("%s: image %s has no pinned tag", where, image)
	}
}

func checkCommand(t *testing.T, where string, c container, entry []string) {
	t.Helper()
	if c.Command != nil && !slices.Equal(c.Command, entry) {
		t.Errorf("%s: command %q, but image %s runs %q", where, c.Command, c.Image, entry)
	}
}

// envRef is a $(VAR) reference in an env value; $$(VAR) is an escape.
var envRef = regexp.MustCompile(`\$?\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// checkEnv: every NSM_* variable is one the binary reads, every required
// one is set, and every $(VAR) names a variable defined earlier in the
// list (Kubernetes expands only those, leaving the text as it is
// otherwise).
func checkEnv(t *testing.T, where string, c container, vars map[string]bool) {
	t.Helper()
	defined := map[string]bool{}
	for _, e := range c.Env {
		if _, ok := vars[e.Name]; strings.HasPrefix(e.Name, "NSM_") && !ok {
			t.Errorf("%s: %s is not a variable of %s", where, e.Name, c.Command)
		}
		for _, m := range envRef.FindAllStringSubmatch(e.Value, -1) {
			if !strings.HasPrefix(m[0], "$$") && !defined[m[1]] {
				t.Errorf("%s: %s=%q refers to $(%s) before it is defined: it will not expand", where, e.Name, e.Value, m[1])
			}
		}
		defined[e.Name] = true
	}
	for name, required := range vars {
		if required && !defined[name] {
			t.Errorf("%s: required %s is not set", where, name)
		}
	}
}

// checkSockets: the SPIFFE Workload API socket is on a SPIFFE CSI volume
// and the NSM socket on a mounted volume.
func checkSockets(t *testing.T, where string, c container, spec *podSpec) {
	t.Helper()
	env := envMap(c.Env)
	if env["NSM_MODE"] != "nsm" {
		return
	}
	for _, s := range []struct{ variable, driver string }{{"SPIFFE_ENDPOINT_SOCKET", spireCSI}, {"NSM_CONNECT_TO", ""}} {
		u, err := url.Parse(env[s.variable])
		if err != nil || u.Scheme != "unix" {
			t.Errorf("%s: %s=%q is not a unix:// URL", where, s.variable, env[s.variable])
			continue
		}
		vol := mountedVolume(c, path.Dir(u.Path))
		switch {
		case vol == "":
			t.Errorf("%s: no volume is mounted at %s for %s", where, path.Dir(u.Path), s.variable)
		case s.driver != "" && volumeDriver(spec, vol) != s.driver:
			t.Errorf("%s: %s is on volume %s, not a %s CSI volume", where, s.variable, vol, s.driver)
		}
	}
}

func mountedVolume(c container, dir string) string {
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) == dir {
			return m.Name
		}
	}
	return ""
}

func volumeDriver(spec *podSpec, name string) string {
	for _, v := range spec.Volumes {
		if v.Name == name && v.CSI != nil {
			return v.CSI.Driver
		}
	}
	return ""
}

func checkNSURL(t *testing.T, where, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("%s: NSM URL %q: %v", where, raw, err)
		return
	}
	n := (*nsurl.NSURL)(u)
	mech := n.Mechanism()
	iface := mech.GetParameters()[common.InterfaceNameKey]
	switch {
	case mech.GetType() != kernel.MECHANISM:
		t.Errorf("%s: NSM URL %q asks for mechanism %s; nsc-mobile takes %s only", where, raw, mech.GetType(), kernel.MECHANISM)
	case iface == "" || len(iface) > 15:
		t.Errorf("%s: NSM URL %q: interface name %q must be 1 to 15 characters", where, raw, iface)
	case !strings.HasPrefix(n.NetworkService(), "home-agent"):
		t.Errorf("%s: NSM URL %q asks for service %q, not home-agent", where, raw, n.NetworkService())
	}
}

// ---------------------------------------------------- binaries' variables

var (
	configMu    sync.Mutex
	configCache = map[string]map[string]bool{}
)

// configOf returns the variables of the binary an image's entrypoint runs,
// each with whether it is required.
func configOf(t *testing.T, entry []string) map[string]bool {
	t.Helper()
	dir := filepath.Join("..", "cmd", path.Base(entry[0]))
	configMu.Lock()
	defer configMu.Unlock()
	if vars, ok := configCache[dir]; ok {
		return vars
	}
	vars, err := configVariables(dir)
	if err != nil {
		t.Fatal(err)
	}
	configCache[dir] = vars
	return vars
}

// configVariables reads the Config struct of a command's sources (package
// main cannot be imported) and names its variables the way the binary
// does: it rebuilds the struct with the same field names and tags and asks
// envconfig, through internal/cli's prefix.
func configVariables(dir string) (map[string]bool, error) {
	fields, err := configFields(dir)
	if err != nil {
		return nil, err
	}
	spec := reflect.New(reflect.StructOf(fields)).Interface()
	var sb strings.Builder
	if err := envconfig.Usagef(cli.Prefix, spec, &sb, "{{range .}}{{usage_key .}} {{usage_required .}}\n{{end}}"); err != nil {
		return nil, fmt.Errorf("%s: Config: %w", dir, err)
	}
	vars := map[string]bool{}
	for line := range strings.Lines(sb.String()) {
		name, required, _ := strings.Cut(strings.TrimSpace(line), " ")
		vars[name] = required == "true"
	}
	return vars, nil
}

// configFields are the fields of `type Config struct` in dir's non-test
// sources, as strings: envconfig names a variable from the field name and
// tags alone.
func configFields(dir string) ([]reflect.StructField, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if st := findStruct(f, "Config"); st != nil {
			return structFields(dir, st)
		}
	}
	return nil, fmt.Errorf("%s: no type Config struct", dir)
}

func findStruct(f *ast.File, name string) *ast.StructType {
	var found *ast.StructType
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == name {
			found, _ = ts.Type.(*ast.StructType)
		}
		return found == nil
	})
	return found
}

func structFields(dir string, st *ast.StructType) ([]reflect.StructField, error) {
	var out []reflect.StructField
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			return nil, fmt.Errorf("%s: Config embeds %v: not supported by this test", dir, f.Type)
		}
		var tag string
		if f.Tag != nil {
			var err error
			if tag, err = strconv.Unquote(f.Tag.Value); err != nil {
				return nil, fmt.Errorf("%s: Config tag %s: %w", dir, f.Tag.Value, err)
			}
		}
		for _, n := range f.Names {
			if n.IsExported() {
				out = append(out, reflect.StructField{Name: n.Name, Type: reflect.TypeFor[string](), Tag: reflect.StructTag(tag)})
			}
		}
	}
	return out, nil
}

// ------------------------------------------------- the floating example

func checkNetworkService(t *testing.T, objs []object, name string) {
	t.Helper()
	for _, o := range objs {
		if o.Kind == "NetworkService" && o.Metadata.Name == name {
			if o.Spec.Payload != "IP" {
				t.Errorf("NetworkService %s: payload %q, want IP", name, o.Spec.Payload)
			}
			return
		}
	}
	t.Errorf("cluster3 has no NetworkService %s", name)
}

// checkPolicy loads cluster2's policy as the Home Agent would, and returns
// the home address it gives the identity that cluster1's ClusterSPIFFEID
// gives the mobile node.
func checkPolicy(t *testing.T, mn found, haEnv map[string]string) netip.Addr {
	t.Helper()
	home, err := netip.ParsePrefix(haEnv["NSM_HOME_PREFIX"])
	if err != nil {
		t.Fatal(err)
	}
	ha, err := netip.ParseAddr(haEnv["NSM_HOME_AGENT_ADDRESS"])
	if err != nil {
		t.Fatal(err)
	}
	if got := haEnv["NSM_HOME_ADDRESS_POLICY"]; got != "/etc/mip6mesh/policy.json" {
		t.Fatalf("NSM_HOME_ADDRESS_POLICY=%q, want the mounted /etc/mip6mesh/policy.json", got)
	}
	policy, err := identity.LoadPolicyFile(floating+"/cluster2/policy.json", home, ha)
	if err != nil {
		t.Fatal(err)
	}
	id := mobileNodeID(t, mn)
	hoa, err := policy.HomeAddress(id)
	if err != nil {
		t.Fatalf("the policy refuses the mobile node's identity %s: %v", id, err)
	}
	return hoa
}

// mobileNodeID is the SPIFFE ID cluster1's ClusterSPIFFEID template gives
// the mobile node's pod, after checking that the template selects it and
// the upstream per-pod template does not.
func mobileNodeID(t *testing.T, mn found) spiffeid.ID {
	t.Helper()
	objs, err := decodeFile(floating + "/cluster1/clusterspiffeid-mobile-node.yaml")
	if err != nil {
		t.Fatal(err)
	}
	csid := objs[0].Spec
	for k, v := range csid.PodSelector.MatchLabels {
		if mn.meta.Labels[k] != v {
			t.Errorf("ClusterSPIFFEID selects %s=%s; the mobile node's pod has %q", k, v, mn.meta.Labels[k])
		}
	}
	if _, ok := mn.meta.Labels["spiffe.io/spiffe-id"]; ok {
		t.Error("the mobile node's pod also matches the upstream per-pod ClusterSPIFFEID (label spiffe.io/spiffe-id)")
	}
	r := strings.NewReplacer("{{.PodMeta.Namespace}}", "ns-floating-interdomain",
		"{{.PodSpec.ServiceAccountName}}", mn.spec.ServiceAccountName)
	id, err := spiffeid.FromString(r.Replace(csid.SPIFFEIDTemplate))
	if err != nil {
		t.Fatalf("ClusterSPIFFEID template %q: %v", csid.SPIFFEIDTemplate, err)
	}
	return id
}

// readmeLocalPath is a path of this repository in a README command.
var readmeLocalPath = regexp.MustCompile(`(?:-k|-f|--config|--patch-file) (deployments/\S+)`)

func checkReadmePaths(t *testing.T, readme string) {
	t.Helper()
	for _, m := range readmeLocalPath.FindAllStringSubmatch(readme, -1) {
		if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
			t.Errorf("README refers to %s: %v", m[1], err)
		}
	}
}

// checkKindConfigs: IPv6, one control plane and one worker each, and
// cluster2's kubelet allows the sysctls of the Home Agent's pod.
func checkKindConfigs(t *testing.T, haSpec *podSpec) {
	t.Helper()
	for _, c := range []string{"cluster1", "cluster2", "cluster3"} {
		p := floating + "/kind/" + c + ".yaml"
		objs, err := decodeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		k := objs[0]
		var roles []string
		for _, n := range k.Nodes {
			roles = append(roles, n.Role)
		}
		if k.Networking.IPFamily != "ipv6" || !slices.Equal(roles, []string{"control-plane", "worker"}) {
			t.Errorf("%s: ipFamily %q, nodes %v: want ipv6, [control-plane worker]", p, k.Networking.IPFamily, roles)
		}
		if c != "cluster2" {
			continue
		}
		patches := strings.Join(k.KubeadmConfigPatches, "\n")
		for _, s := range haSpec.SecurityContext.Sysctls {
			if !strings.Contains(patches, s.Name) {
				t.Errorf("%s: the kubelet does not allow the Home Agent's sysctl %s", p, s.Name)
			}
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
