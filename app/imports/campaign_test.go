package imports_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/imports"
	"gatehouse/app/passwords"
	"gatehouse/app/tokens"
	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// mailQueue records what campaigns queue.
type mailQueue struct {
	mu    sync.Mutex
	mails []jobs.SendMail
	ticks []queuedTick
}

type queuedTick struct {
	t  jobs.CampaignTick
	at time.Time
}

func (q *mailQueue) EnqueueMail(_ context.Context, m jobs.SendMail) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.mails = append(q.mails, m)
	return nil
}

func (q *mailQueue) EnqueueCampaignTick(_ context.Context, t jobs.CampaignTick, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ticks = append(q.ticks, queuedTick{t, at})
	return nil
}

func (q *mailQueue) lastTick(t *testing.T) queuedTick {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ticks) == 0 {
		t.Fatal("no tick queued")
	}
	return q.ticks[len(q.ticks)-1]
}

func (q *mailQueue) take() []jobs.SendMail {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.mails
	q.mails = nil
	return m
}

func newCampaigns(t *testing.T, f *fixture, q *mailQueue) *imports.Campaigns {
	t.Helper()
	return imports.NewCampaigns(imports.CampaignDeps{
		DB: f.db.Gorm, Tokens: tokens.NewStore(f.db.Gorm), Accounts: accounts.NewStore(f.db.Gorm),
		Hasher: passwords.NewHasher(passwords.Params{Memory: 64, Time: 1, Threads: 1}, 2, time.Second), Policy: passwords.NewPolicy(),
		Queue: q, Tenants: f.tenants, MailFrom: "Gatehouse <no-reply@gatehouse.test>", Audit: f.audit,
		Links: func(tn *tenants.Tenant, p string) string { return "https://" + tn.Slug + ".id.test" + p },
	})
}

var linkPattern = regexp.MustCompile(`https://acme\.id\.test/password/set\?token=([A-Za-z0-9_%-]+)`)

func tokenOf(t *testing.T, m jobs.SendMail) string {
	t.Helper()
	match := linkPattern.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no link in mail:\n%s", m.Text)
	}
	tok, err := url.QueryUnescape(match[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPasswordCampaign(t *testing.T) {
	f := newFixture(t)
	q := &mailQueue{}
	cs := newCampaigns(t, f, q)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cs.SetNow(func() time.Time { return now })

	// Five imported customers; one signs in with Google, one brought a
	// bcrypt hash. Bravo has a customer of its own.
	j := f.stage(t, f.a, "a.csv", "email,first_name\nann@example.com,Ann\nbob@example.com,Bob\ncarl@example.com,Carl\ndora@example.com,Dora\nsocial@example.com,Sol\n")
	f.pass(t, f.a, j, auto(j, f.a, imports.ModeCreate), false)
	h := f.stage(t, f.a, "h.csv", "email,password_hash\nhash@example.com,$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a\n")
	f.pass(t, f.a, h, imports.Mapping{Mode: imports.ModeCreate, LegacyPasswords: true, Columns: imports.AutoMap(h.Dialect.Columns, nil, true)}, false)
	social := f.customers(t, f.a.ID)["social@example.com"]
	if err := f.db.Gorm.Exec("INSERT INTO identities (id, tenant_id, customer_id, provider, subject, created_at, updated_at) VALUES (?, ?, ?, 'google', 'g-1', ?, ?)",
		uuid.Must(uuid.NewV7()), f.a.ID, social.ID, now, now).Error; err != nil {
		t.Fatal(err)
	}
	b := f.stage(t, f.b, "b.csv", "email\nzed@example.com\n")
	f.pass(t, f.b, b, auto(b, f.b, imports.ModeCreate), false)

	if n, err := cs.Candidates(f.ctx, f.a.ID); err != nil || n != 4 {
		t.Fatalf("candidates %d, %v", n, err)
	}
	if _, err := cs.Start(f.ctx, f.a, cli, 0, 3); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("rate 0: %v", err)
	}
	cp, err := cs.Start(f.ctx, f.a, cli, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Recipients != 4 || cp.Status != imports.CampaignRunning {
		t.Fatalf("campaign %+v", cp)
	}
	if _, err := cs.Start(f.ctx, f.a, cli, 3, 3); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a second campaign mails the same customers: %v", err)
	}

	tick := func(p jobs.CampaignTick) {
		t.Helper()
		if err := cs.CampaignTick(f.ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// Minute 0: three mails (the rate), then the next tick in a minute.
	first := q.lastTick(t)
	tick(first.t)
	mails := q.take()
	if len(mails) != 3 || q.lastTick(t).t.Tick != 1 || !q.lastTick(t).at.Equal(now.Add(time.Minute)) {
		t.Fatalf("tick 0: %d mails, next %+v", len(mails), q.lastTick(t))
	}
	if m := mails[0]; m.TenantID != f.a.ID || m.Subject != "Choose your Acme password" || !strings.Contains(m.From, `"Acme"`) ||
		!strings.Contains(m.Text, "The link works once, for 7 days.") || !strings.Contains(m.HTML, "Choose your password") {
		t.Fatalf("mail %+v", m)
	}
	// The same tick again (a retry) sends nothing twice.
	tick(first.t)
	if again := q.take(); len(again) != 0 {
		t.Fatalf("a repeated tick sent %d mails", len(again))
	}
	// Minute 1: the last mail; the next tick waits for the reminders.
	tick(q.lastTick(t).t)
	mails = append(mails, q.take()...)
	if len(mails) != 4 {
		t.Fatalf("%d mails in all", len(mails))
	}
	next := q.lastTick(t)
	if !next.at.Equal(now.Add(72 * time.Hour)) {
		t.Fatalf("reminder tick at %s", next.at)
	}
	to := map[string]jobs.SendMail{}
	for _, m := range mails {
		to[m.To] = m
	}
	if _, ok := to["social@example.com"]; ok {
		t.Fatal("a social-only customer got the mail")
	}
	if _, ok := to["hash@example.com"]; ok {
		t.Fatal("a customer with a password got the mail")
	}

	// Ann uses her link; a weak password first leaves the link usable.
	annToken := tokenOf(t, to["ann@example.com"])
	if err := cs.SetPassword(f.ctx, f.a, annToken, "short", "203.0.113.9"); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("weak password: %v", err)
	}
	if err := cs.CheckSetPasswordToken(f.ctx, f.b, annToken); err == nil {
		t.Fatal("bravo accepts acme's link")
	}
	if err := cs.SetPassword(f.ctx, f.b, annToken, "a perfectly long password", ""); err == nil {
		t.Fatal("acme's link set a password on bravo")
	}
	if err := cs.SetPassword(f.ctx, f.a, annToken, "a perfectly long password", "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetPassword(f.ctx, f.a, annToken, "another long password", ""); err == nil {
		t.Fatal("a campaign link worked twice")
	}
	ann := f.customers(t, f.a.ID)["ann@example.com"]
	hasher := passwords.NewHasher(passwords.Default, 1, time.Second)
	if ok, _, _ := hasher.Verify(f.ctx, ann.Hash, "a perfectly long password"); !ok || !ann.Verified {
		t.Fatalf("ann after the link: %+v", ann)
	}

	// Three days on: reminders for the three who have not acted.
	now = now.Add(72 * time.Hour)
	tick(next.t)
	reminders := q.take()
	if len(reminders) != 3 || reminders[0].Subject != "Reminder: choose your Acme password" {
		t.Fatalf("%d reminders: %+v", len(reminders), reminders)
	}
	for _, m := range reminders {
		if m.To == "ann@example.com" {
			t.Fatal("ann, who set her password, got a reminder")
		}
	}
	got, err := cs.Campaign(f.ctx, f.a.ID, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != imports.CampaignDone || got.Sent != 4 || got.Reminded != 3 || got.Used != 1 {
		t.Fatalf("campaign at the end %+v", got)
	}
	actions := strings.Join(f.auditActions(t, f.a.ID), " ")
	for _, want := range []string{"campaign.started", "campaign.finished", "customer.password.set"} {
		if !strings.Contains(actions, want) {
			t.Errorf("audit lacks %s: %s", want, actions)
		}
	}

	t.Run("other tenant", func(t *testing.T) {
		if _, err := cs.Campaign(f.ctx, f.b.ID, cp.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo reads acme's campaign: %v", err)
		}
		if list, _ := cs.List(f.ctx, f.b.ID); len(list) != 0 {
			t.Fatalf("bravo lists %+v", list)
		}
		if err := cs.Stop(f.ctx, f.b.ID, cli, cp.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo stops acme's campaign: %v", err)
		}
		// A tick naming bravo and acme's campaign does nothing.
		if err := cs.CampaignTick(f.ctx, jobs.CampaignTick{TenantID: f.b.ID, CampaignID: cp.ID, Tick: 2}); err != nil || len(q.take()) != 0 {
			t.Fatalf("cross-tenant tick: %v", err)
		}
		if n, _ := cs.Candidates(f.ctx, f.b.ID); n != 1 {
			t.Fatalf("bravo's candidates: %d", n)
		}
	})
}

func TestCampaignStop(t *testing.T) {
	f := newFixture(t)
	q := &mailQueue{}
	cs := newCampaigns(t, f, q)
	j := f.stage(t, f.a, "a.csv", "email\nann@example.com\nbob@example.com\n")
	f.pass(t, f.a, j, auto(j, f.a, imports.ModeCreate), false)
	cp, err := cs.Start(f.ctx, f.a, cli, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.CampaignTick(f.ctx, q.lastTick(t).t); err != nil {
		t.Fatal(err)
	}
	if err := cs.Stop(f.ctx, f.a.ID, cli, cp.ID); err != nil {
		t.Fatal(err)
	}
	q.take()
	if err := cs.CampaignTick(f.ctx, q.lastTick(t).t); err != nil {
		t.Fatal(err)
	}
	if m := q.take(); len(m) != 0 {
		t.Fatalf("a stopped campaign sent %d mails", len(m))
	}
	got, _ := cs.Campaign(f.ctx, f.a.ID, cp.ID)
	if got.Status != imports.CampaignStopped || got.Sent != 1 {
		t.Fatalf("%+v", got)
	}
	if err := cs.Stop(f.ctx, f.a.ID, cli, cp.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("stopping twice: %v", err)
	}
}
