package api

import (
	"encoding/json"
	"testing"

	"gatehouse/tenants"
)

func TestProfileValues(t *testing.T) {
	in := map[string]json.RawMessage{
		"name": json.RawMessage(`"Ada"`), "age": json.RawMessage(`36`), "ratio": json.RawMessage(`1.5e1`),
		"news": json.RawMessage(`true`), "gone": json.RawMessage(`null`), "neg": json.RawMessage(`-2`),
	}
	got, err := profileValues(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": "Ada", "age": "36", "ratio": "15", "news": "true", "gone": "", "neg": "-2"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for name, raw := range map[string]string{"object": `{"a":1}`, "array": `[1]`} {
		t.Run(name+" refused by name", func(t *testing.T) {
			_, err := profileValues(map[string]json.RawMessage{"city": json.RawMessage(raw)})
			fe, ok := err.(tenants.FieldErrors)
			if !ok || fe["city"] == "" {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
