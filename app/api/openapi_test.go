package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"

	"gatehouse/app/api"
	"gatehouse/app/api/apitest"
)

// TestDocumentMatchesRouter walks the routes Mount registers and the paths
// the assembled document lists: each must have the other.
func TestDocumentMatchesRouter(t *testing.T) {
	raw, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	// It loads and validates as OpenAPI 3.1 with kin-openapi.
	apitest.Parse(t, raw, "http://acme.localhost/api/v1")

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	api.Mount(e.Group(api.Base), api.Deps{Document: raw, Reference: &api.Reference{}})
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	routes := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == http.MethodOptions { // the CORS preflight, on every path
			continue
		}
		p := strings.TrimPrefix(r.Path, api.Base)
		p = param.ReplaceAllString(p, "{$1}")
		routes[strings.ToLower(r.Method)+" "+p] = true
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "post", "put", "patch", "delete", "head":
				documented[method+" "+p] = true
			}
		}
	}
	var missing, extra []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("openapi.json lists routes that do not exist: %v", extra)
	}
	if len(routes) < 2 {
		t.Fatalf("only %d routes walked", len(routes))
	}
}

func TestAssembleRefusesDuplicates(t *testing.T) {
	base := &fstest.MapFile{Data: []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a":{}},"components":{"schemas":{"A":{}}}}`)}
	for name, tc := range map[string]struct {
		frag string
		want string
	}{
		"path twice":       {`{"paths":{"/a":{}}}`, "path /a is defined in both base.json and x.json"},
		"component twice":  {`{"components":{"schemas":{"A":{}}}}`, "components.schemas.A is defined in both base.json and x.json"},
		"top-level member": {`{"info":{}}`, `x.json: a fragment holds only paths and components, not "info"`},
		"not JSON":         {`{`, "x.json"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := api.Assemble(fstest.MapFS{"base.json": base, "x.json": {Data: []byte(tc.frag)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
	t.Run("two fragments define one path", func(t *testing.T) {
		_, err := api.Assemble(fstest.MapFS{"base.json": base, "x.json": {Data: []byte(`{"paths":{"/b":{}}}`)}, "y.json": {Data: []byte(`{"paths":{"/b":{}}}`)}})
		if err == nil || !strings.Contains(err.Error(), "path /b is defined in both x.json and y.json") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ok", func(t *testing.T) {
		out, err := api.Assemble(fstest.MapFS{"base.json": base, "x.json": {Data: []byte(`{"paths":{"/b":{}},"components":{"schemas":{"B":{}}}}`)}})
		if err != nil || !strings.Contains(string(out), `"/b"`) || !strings.Contains(string(out), `"B"`) || !strings.Contains(string(out), `"/a"`) {
			t.Fatalf("%v %s", err, out)
		}
	})
}
