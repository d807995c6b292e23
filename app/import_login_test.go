package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gatehouse/app/passwords"
)

func TestImportedHashesLogInAndAreRehashed(t *testing.T) {
	t.Parallel()
	env := importEnv(t)
	srv := env.Serve()
	foreign, err := passwords.NewHasher(passwords.Params{Memory: 64, Time: 1, Threads: 1}, 1, time.Second).Hash(context.Background(), "argon password 1")
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "legacy.csv", "email,password_hash\n"+
		"bc@example.com,$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a\n"+
		"ar@example.com,\""+foreign+"\"\n"+
		"md5@example.com,5f4dcc3b5aa765d61d8327deb882cf99\n")
	r := env.Run("import", "--tenant", "acme", "--legacy-passwords", file)
	if r.Code != 0 || !strings.Contains(r.Stdout, "created 2") || !strings.Contains(r.Stdout, "line 4: password_hash: not a supported password hash") {
		t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	hashOf := func(email string) string {
		var h string
		if err := env.DB().Gorm.Table("customers").Where("email = ?", email).Pluck("password_hash", &h).Error; err != nil {
			t.Fatal(err)
		}
		return h
	}
	current := "$argon2id$v=19$m=19456,t=2,p=1$"
	check := func(email, password, was string) {
		t.Helper()
		v := srv.Visitor(t)
		p := login(v, "acme.localhost", email, password)
		if p.StatusCode != 303 {
			t.Fatalf("login %s: %d\n%s", email, p.StatusCode, p.Body)
		}
		if h := hashOf(email); h == was || !strings.HasPrefix(h, current) {
			t.Fatalf("%s's hash after login: %s", email, h)
		}
	}
	check("ar@example.com", "argon password 1", foreign)
	check("bc@example.com", "rasmuslerdorf", hashOf("bc@example.com"))
}
