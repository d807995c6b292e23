package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
)

// MaxBody caps a JSON request body. Imports stream their own bodies and do
// not come through Bind.
const MaxBody = 1 << 20

// Bind decodes the request's JSON body into v strictly: one JSON value, no
// unknown members, every member of the type it is declared with. Each
// failure is an Invalid error naming the member, ready for Problem.
func Bind(c *gin.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

// readBody reads the (capped) body once; handlers that hash it for
// idempotency read it through here too.
func readBody(c *gin.Context) ([]byte, error) {
	if b, ok := c.Get(bodyKey); ok {
		return b.([]byte), nil
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody)
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, apperr.Field("body", "must be at most %d bytes", MaxBody)
		}
		return nil, apperr.Field("body", "could not be read")
	}
	c.Set(bodyKey, b)
	return b, nil
}

const bodyKey = "api.body"

func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.Field("body", "must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return apperr.Field("body", "must hold one JSON value, with nothing after it")
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.Field("body", "must hold one JSON value, with nothing after it")
	}
	return nil
}

// jsonError names the member encoding/json complained about.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return apperr.Field("body", "must be a JSON %s", jsonKind(typeErr.Type.Kind().String()))
		}
		return apperr.Field(field, "must be %s, not %s", article(jsonKind(typeErr.Type.Kind().String())), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return apperr.Field("body", "is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Field("body", "is not valid JSON (it ends too soon)")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return apperr.Field(strings.Trim(name, `"`), "is not a member of this request")
	}
	var fe *apperr.Error
	if errors.As(err, &fe) {
		return fe
	}
	return apperr.Field("body", "is not valid JSON: %s", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr", "interface":
		return "object"
	}
	return goKind
}

func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	}
	return fmt.Sprintf("a %s", kind)
}
