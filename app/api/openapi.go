package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"

	"github.com/gin-gonic/gin"
)

// The document's fragments: base.json holds the top level (openapi, info,
// servers, security schemes, the shared problem schemas and responses);
// every other file holds only "paths" and "components" for one area.
//
//go:embed openapi/*.json
var fragments embed.FS

// Document assembles the OpenAPI document from the embedded fragments.
func Document() ([]byte, error) {
	sub, err := fs.Sub(fragments, "openapi")
	if err != nil {
		return nil, err
	}
	return Assemble(sub)
}

// Assemble merges base.json and every other *.json fragment of fsys into
// one document. A fragment with anything but paths and components, or a
// path or component that two fragments define, is an error naming both.
func Assemble(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	doc, err := readFragment(fsys, "base.json")
	if err != nil {
		return nil, err
	}
	paths := object(doc, "paths")
	components := object(doc, "components")
	owner := map[string]string{}
	for p := range paths {
		owner["path "+p] = "base.json"
	}
	for section, v := range components {
		m, _ := v.(map[string]any)
		for name := range m {
			owner["components."+section+"."+name] = "base.json"
		}
	}
	for _, name := range names {
		if name == "base.json" {
			continue
		}
		frag, err := readFragment(fsys, name)
		if err != nil {
			return nil, err
		}
		for k := range frag {
			if k != "paths" && k != "components" {
				return nil, fmt.Errorf("openapi: %s: a fragment holds only paths and components, not %q", name, k)
			}
		}
		for p, item := range object(frag, "paths") {
			if prev, dup := owner["path "+p]; dup {
				return nil, fmt.Errorf("openapi: path %s is defined in both %s and %s", p, prev, name)
			}
			owner["path "+p] = name
			paths[p] = item
		}
		for section, v := range object(frag, "components") {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("openapi: %s: components.%s is not an object", name, section)
			}
			into := object(components, section)
			for cname, c := range m {
				key := "components." + section + "." + cname
				if prev, dup := owner[key]; dup {
					return nil, fmt.Errorf("openapi: %s is defined in both %s and %s", key, prev, name)
				}
				owner[key] = name
				into[cname] = c
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

func readFragment(fsys fs.FS, name string) (map[string]any, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", path.Base(name), err)
	}
	return m, nil
}

// object returns m[key] as an object, creating it when absent.
func object(m map[string]any, key string) map[string]any {
	if v, ok := m[key].(map[string]any); ok {
		return v
	}
	v := map[string]any{}
	m[key] = v
	return v
}

// serveDocument serves the assembled document. It is public: it says what
// the API is, nothing about the tenant's data.
func serveDocument(doc []byte) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.Data(http.StatusOK, "application/json", doc)
	}
}
