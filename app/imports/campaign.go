package imports

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/app/audit"
	"gatehouse/app/mail"
	"gatehouse/app/passwords"
	"gatehouse/app/tokens"
	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/tenants"
	"gatehouse/txn"
)

// A "set your password" campaign mails every customer of a tenant who has
// neither a password nor a social sign-in (typically the customers an
// import just brought in) a single-use link, valid for SetPasswordTTL, to
// choose a password. Mails go out in batches of RatePerMinute, one batch
// per minute, from a chain of campaign:tick tasks; RemindAfterDays later,
// those who have not acted get a reminder with a fresh link. Each
// recipient's row records when each mail went, and the link records its
// use, so a tick that runs twice sends nothing twice.

// SetPasswordTTL is how long a campaign link works.
const SetPasswordTTL = 7 * 24 * time.Hour

// CampaignStatus is where a campaign stands.
type CampaignStatus string

// The campaign statuses.
const (
	CampaignRunning CampaignStatus = "running"
	CampaignStopped CampaignStatus = "stopped"
	CampaignDone    CampaignStatus = "done"
)

// Campaign is one "set your password" campaign with its counts.
type Campaign struct {
	ID              uuid.UUID
	TenantID        uuid.UUID
	Status          CampaignStatus
	RatePerMinute   int
	RemindAfterDays int
	Recipients      int
	Sent            int64
	Reminded        int64
	Used            int64 // recipients who have a password now, by the link or otherwise
	CreatedBy       string
	CreatedAt       time.Time
	FinishedAt      *time.Time
}

type campaignRow struct {
	ID              uuid.UUID
	TenantID        uuid.UUID
	Status          string
	RatePerMinute   int
	RemindAfterDays int
	Recipients      int
	Tick            int
	CreatedBy       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinishedAt      *time.Time
}

func (campaignRow) TableName() string { return "password_campaigns" }

// CampaignQueue is what campaigns need from the job queue.
type CampaignQueue interface {
	EnqueueCampaignTick(ctx context.Context, t jobs.CampaignTick, at time.Time) error
	EnqueueMail(ctx context.Context, m jobs.SendMail) error
}

// Links builds absolute URLs on a tenant's configured host.
type Links func(t *tenants.Tenant, pathAndQuery string) string

// CampaignDeps are the campaigns' collaborators.
type CampaignDeps struct {
	DB       *gorm.DB
	Tokens   *tokens.Store
	Accounts *accounts.Store
	Hasher   *passwords.Hasher
	Policy   *passwords.Policy
	Queue    CampaignQueue
	Tenants  TenantLookup
	Links    Links
	MailFrom string // GATEHOUSE_MAIL_FROM; the tenant's name becomes its display name
	Audit    *audit.Recorder
}

// Campaigns runs "set your password" campaigns.
type Campaigns struct {
	d   CampaignDeps
	now func() time.Time
}

var _ jobs.CampaignWorker = (*Campaigns)(nil)

// NewCampaigns returns the campaign service.
func NewCampaigns(d CampaignDeps) *Campaigns {
	return &Campaigns{d: d, now: func() time.Time { return time.Now().UTC() }}
}

// candidatesSQL selects the customers a campaign of a tenant would mail
// now: active, without a password or a social sign-in, and not in a
// running campaign. Its parameters are the tenant id and "running".
const candidatesSQL = ` FROM customers c
	WHERE c.tenant_id = ? AND c.password_hash IS NULL AND c.status = 'active'
	AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.tenant_id = c.tenant_id AND i.customer_id = c.id)
	AND NOT EXISTS (SELECT 1 FROM password_campaign_recipients r JOIN password_campaigns pc ON pc.id = r.campaign_id
		WHERE r.tenant_id = c.tenant_id AND r.customer_id = c.id AND pc.status = ?)`

// Candidates counts the customers a new campaign would mail.
func (c *Campaigns) Candidates(ctx context.Context, tenantID uuid.UUID) (int64, error) {
	var n int64
	if err := c.d.DB.WithContext(ctx).Raw("SELECT COUNT(*)"+candidatesSQL, tenantID, string(CampaignRunning)).Scan(&n).Error; err != nil {
		return 0, apperr.Wrap(err, "count campaign candidates")
	}
	return n, nil
}

// Start begins a campaign for every current candidate of tenant t.
func (c *Campaigns) Start(ctx context.Context, t *tenants.Tenant, a Actor, ratePerMinute, remindAfterDays int) (*Campaign, error) {
	if ratePerMinute < 1 || ratePerMinute > 10000 {
		return nil, apperr.Field("rate", "must be 1 to 10,000 mails per minute")
	}
	if remindAfterDays < 0 || remindAfterDays > 30 {
		return nil, apperr.Field("remind_days", "must be 0 (no reminder) to 30 days")
	}
	now := c.now()
	r := campaignRow{ID: uuid.Must(uuid.NewV7()), TenantID: t.ID, Status: string(CampaignRunning), RatePerMinute: ratePerMinute,
		RemindAfterDays: remindAfterDays, CreatedBy: a.Name, CreatedAt: now, UpdatedAt: now}
	// The campaign and its first tick's outbox row commit together.
	err := txn.Run(ctx, c.d.DB, func(ctx context.Context) error {
		tx := txn.DB(ctx, c.d.DB)
		if err := tx.Create(&r).Error; err != nil {
			return apperr.Wrap(err, "create campaign")
		}
		id := "?"
		if tx.Dialector.Name() == "postgres" {
			id = "CAST(? AS uuid)"
		}
		res := tx.Exec("INSERT INTO password_campaign_recipients (campaign_id, customer_id, tenant_id, email) SELECT "+id+", c.id, c.tenant_id, c.email"+candidatesSQL,
			r.ID, t.ID, string(CampaignRunning))
		if res.Error != nil {
			return apperr.Wrap(res.Error, "choose campaign recipients")
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.Invalid, "No customer needs the mail: every one has a password, a social sign-in or a campaign under way.")
		}
		r.Recipients = int(res.RowsAffected)
		if err := tx.Model(&campaignRow{}).Where("id = ? AND tenant_id = ?", r.ID, t.ID).Update("recipients", r.Recipients).Error; err != nil {
			return err
		}
		return c.d.Queue.EnqueueCampaignTick(ctx, jobs.CampaignTick{TenantID: t.ID, CampaignID: r.ID, Tick: 0}, now)
	})
	if err != nil {
		return nil, err
	}
	c.record(ctx, t.ID, a, "campaign.started", r.ID, map[string]any{"recipients": r.Recipients, "rate_per_minute": ratePerMinute, "remind_after_days": remindAfterDays})
	return c.Campaign(ctx, t.ID, r.ID)
}

// Stop ends a running campaign: no more mails or reminders go out. Links
// already sent keep working until they expire.
func (c *Campaigns) Stop(ctx context.Context, tenantID uuid.UUID, a Actor, id uuid.UUID) error {
	now := c.now()
	res := c.d.DB.WithContext(ctx).Model(&campaignRow{}).Where("id = ? AND tenant_id = ? AND status = ?", id, tenantID, CampaignRunning).
		Updates(map[string]any{"status": string(CampaignStopped), "finished_at": now, "updated_at": now})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "stop campaign")
	}
	if res.RowsAffected == 0 {
		if _, err := c.Campaign(ctx, tenantID, id); err != nil {
			return err
		}
		return apperr.New(apperr.Conflict, "This campaign has already ended.")
	}
	c.record(ctx, tenantID, a, "campaign.stopped", id, nil)
	return nil
}

// Campaign returns one campaign with its counts.
func (c *Campaigns) Campaign(ctx context.Context, tenantID, id uuid.UUID) (*Campaign, error) {
	list, err := c.list(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, apperr.New(apperr.NotFound, "no such campaign")
	}
	return list[0], nil
}

// List returns the tenant's campaigns, newest first, with their counts.
func (c *Campaigns) List(ctx context.Context, tenantID uuid.UUID) ([]*Campaign, error) {
	return c.list(ctx, tenantID, uuid.Nil)
}

func (c *Campaigns) list(ctx context.Context, tenantID, id uuid.UUID) ([]*Campaign, error) {
	if tenantID == uuid.Nil {
		return nil, nil
	}
	q := c.d.DB.WithContext(ctx).Where("tenant_id = ?", tenantID)
	if id != uuid.Nil {
		q = q.Where("id = ?", id)
	}
	var rows []campaignRow
	if err := q.Order("created_at DESC").Limit(50).Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list campaigns")
	}
	out := make([]*Campaign, 0, len(rows))
	for _, r := range rows {
		cp := &Campaign{ID: r.ID, TenantID: r.TenantID, Status: CampaignStatus(r.Status), RatePerMinute: r.RatePerMinute, RemindAfterDays: r.RemindAfterDays,
			Recipients: r.Recipients, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), FinishedAt: r.FinishedAt}
		err := c.d.DB.WithContext(ctx).Table("password_campaign_recipients AS r").
			Joins("JOIN customers ON customers.id = r.customer_id AND customers.tenant_id = r.tenant_id").
			Where("r.campaign_id = ? AND r.tenant_id = ?", r.ID, tenantID).
			Select("COALESCE(SUM(CASE WHEN r.sent_at IS NOT NULL THEN 1 ELSE 0 END), 0), "+
				"COALESCE(SUM(CASE WHEN r.reminded_at IS NOT NULL THEN 1 ELSE 0 END), 0), "+
				"COALESCE(SUM(CASE WHEN r.used_at IS NOT NULL OR customers.password_hash IS NOT NULL THEN 1 ELSE 0 END), 0)").
			Row().Scan(&cp.Sent, &cp.Reminded, &cp.Used)
		if err != nil {
			return nil, apperr.Wrap(err, "count campaign")
		}
		out = append(out, cp)
	}
	return out, nil
}

// recipient is one customer a tick mails.
type recipient struct {
	CustomerID uuid.UUID
	Email      string
}

// CampaignTick sends one minute's batch (a worker step): first mails to
// recipients not yet mailed, then reminders that are due, at most
// RatePerMinute in all; then it queues the next tick for when there is
// work again, or ends the campaign.
func (c *Campaigns) CampaignTick(ctx context.Context, p jobs.CampaignTick) error {
	var r campaignRow
	err := c.d.DB.WithContext(ctx).Where("id = ? AND tenant_id = ?", p.CampaignID, p.TenantID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return apperr.Wrap(err, "load campaign")
	}
	if r.Status != string(CampaignRunning) {
		return nil
	}
	if r.Tick > p.Tick {
		// This tick's batch went out; make sure its successor is queued.
		return c.scheduleNext(ctx, r)
	}
	t, err := c.d.Tenants.ByID(ctx, p.TenantID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := c.now()
	budget := r.RatePerMinute
	first, err := c.due(ctx, r, budget, "r.sent_at IS NULL")
	if err != nil {
		return err
	}
	if _, err := c.send(ctx, t, r, "sent_at", first, now); err != nil {
		return err
	}
	budget -= len(first)
	if r.RemindAfterDays > 0 && budget > 0 {
		cutoff := now.Add(-time.Duration(r.RemindAfterDays) * 24 * time.Hour)
		again, err := c.due(ctx, r, budget, "r.sent_at IS NOT NULL AND r.reminded_at IS NULL AND r.used_at IS NULL AND r.sent_at <= ?", cutoff)
		if err != nil {
			return err
		}
		if _, err := c.send(ctx, t, r, "reminded_at", again, now); err != nil {
			return err
		}
	}
	res := c.d.DB.WithContext(ctx).Model(&campaignRow{}).Where("id = ? AND tenant_id = ? AND tick = ?", r.ID, r.TenantID, p.Tick).
		Updates(map[string]any{"tick": p.Tick + 1, "updated_at": now})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "advance campaign")
	}
	r.Tick = p.Tick + 1
	return c.scheduleNext(ctx, r)
}

// due lists up to limit recipients matching cond whose customer still has
// no password.
func (c *Campaigns) due(ctx context.Context, r campaignRow, limit int, cond string, args ...any) ([]recipient, error) {
	var out []recipient
	err := c.d.DB.WithContext(ctx).Table("password_campaign_recipients AS r").
		Joins("JOIN customers ON customers.id = r.customer_id AND customers.tenant_id = r.tenant_id").
		Where("r.campaign_id = ? AND r.tenant_id = ? AND customers.password_hash IS NULL AND customers.status = ?", r.ID, r.TenantID, accounts.StatusActive).
		Where(cond, args...).
		Order("r.customer_id").Limit(limit).
		Select("r.customer_id, customers.email").Scan(&out).Error
	if err != nil {
		return nil, apperr.Wrap(err, "list campaign recipients")
	}
	return out, nil
}

// send mails each recipient a fresh link and stamps col (sent_at or
// reminded_at) on their row. Each recipient's link, mail (an outbox row)
// and stamp commit in one transaction, so a worker killed in the middle
// of a batch leaves every recipient either mailed and stamped or neither:
// the retried tick mails the rest, and nobody twice.
func (c *Campaigns) send(ctx context.Context, t *tenants.Tenant, r campaignRow, col string, list []recipient, now time.Time) (int, error) {
	brand := mail.BrandOf(t, c.d.Links(t, ""))
	days := int(SetPasswordTTL / (24 * time.Hour))
	for _, rc := range list {
		err := txn.Run(ctx, c.d.DB, func(ctx context.Context) error {
			token, err := c.d.Tokens.Issue(ctx, t.ID, rc.CustomerID, tokens.SetPassword, SetPasswordTTL, map[string]string{"campaign": r.ID.String()})
			if err != nil {
				return err
			}
			link := c.d.Links(t, "/password/set?token="+url.QueryEscape(token))
			env := mail.Envelope{TenantID: t.ID, From: fromOf(c.d.MailFrom, t), To: rc.Email}
			var msg jobs.SendMail
			kind := tenants.MailCampaign
			if col != "sent_at" {
				kind = tenants.MailCampaignRemind
			}
			w := mail.WordingFor(t, kind, brand, rc.Email)
			env.Subject = w.Subject
			html, text := mail.Parts(kind, brand, w.Intro, link, 0, days)
			msg, err = mail.Render(ctx, env, html, text)
			if err != nil {
				// An address that cannot be mailed is stamped all the same, so
				// it does not block the queue.
				msg = jobs.SendMail{}
			}
			if msg.To != "" {
				if err := c.d.Queue.EnqueueMail(ctx, msg); err != nil {
					return err
				}
			}
			err = txn.DB(ctx, c.d.DB).Table("password_campaign_recipients").
				Where("campaign_id = ? AND tenant_id = ? AND customer_id = ?", r.ID, t.ID, rc.CustomerID).Update(col, now).Error
			if err != nil {
				return apperr.Wrap(err, "stamp campaign mail")
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

// scheduleNext queues the tick after r.Tick: in a minute while mails are
// waiting, when the first reminder falls due, or never (the campaign is
// done).
func (c *Campaigns) scheduleNext(ctx context.Context, r campaignRow) error {
	now := c.now()
	next := jobs.CampaignTick{TenantID: r.TenantID, CampaignID: r.ID, Tick: r.Tick}
	unsent, err := c.due(ctx, r, 1, "r.sent_at IS NULL")
	if err != nil {
		return err
	}
	if len(unsent) > 0 {
		return c.d.Queue.EnqueueCampaignTick(ctx, next, now.Add(time.Minute))
	}
	if r.RemindAfterDays > 0 {
		var first *time.Time
		var sent []time.Time
		err := c.d.DB.WithContext(ctx).Table("password_campaign_recipients AS r").
			Joins("JOIN customers ON customers.id = r.customer_id AND customers.tenant_id = r.tenant_id").
			Where("r.campaign_id = ? AND r.tenant_id = ? AND r.sent_at IS NOT NULL AND r.reminded_at IS NULL AND r.used_at IS NULL AND customers.password_hash IS NULL", r.ID, r.TenantID).
			Order("r.sent_at").Limit(1).Pluck("r.sent_at", &sent).Error
		if err != nil {
			return apperr.Wrap(err, "find next reminder")
		}
		if len(sent) > 0 {
			first = &sent[0]
		}
		if first != nil {
			at := first.Add(time.Duration(r.RemindAfterDays) * 24 * time.Hour)
			if at.Before(now.Add(time.Minute)) {
				at = now.Add(time.Minute)
			}
			return c.d.Queue.EnqueueCampaignTick(ctx, next, at)
		}
	}
	res := c.d.DB.WithContext(ctx).Model(&campaignRow{}).Where("id = ? AND tenant_id = ? AND status = ?", r.ID, r.TenantID, CampaignRunning).
		Updates(map[string]any{"status": string(CampaignDone), "finished_at": now, "updated_at": now})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "finish campaign")
	}
	if res.RowsAffected == 1 {
		if cp, err := c.Campaign(ctx, r.TenantID, r.ID); err == nil {
			c.record(ctx, r.TenantID, Actor{Name: "system"}, "campaign.finished", r.ID, map[string]any{"recipients": cp.Recipients, "sent": cp.Sent, "reminded": cp.Reminded, "used": cp.Used})
		}
	}
	return nil
}

// SetPasswordLink issues one customer a set-password link outside any
// campaign: "Forgot password" from a customer who has neither a password
// nor a social sign-in gets it (accounts.SetPasswordLinks). Like a new
// reset link, it makes the customer's older set-password links worthless,
// campaign links included; the campaign still counts the customer as done
// once a password is set.
func (c *Campaigns) SetPasswordLink(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) (string, time.Duration, error) {
	if err := c.d.Tokens.Revoke(ctx, t.ID, customerID, tokens.SetPassword); err != nil {
		return "", 0, err
	}
	token, err := c.d.Tokens.Issue(ctx, t.ID, customerID, tokens.SetPassword, SetPasswordTTL, map[string]string{"via": "forgot"})
	if err != nil {
		return "", 0, err
	}
	return c.d.Links(t, "/password/set?token="+url.QueryEscape(token)), SetPasswordTTL, nil
}

var _ accounts.SetPasswordLinks = (*Campaigns)(nil)

// CheckSetPasswordToken reports whether a campaign link can still be used,
// so the page can say so before the customer types a password.
func (c *Campaigns) CheckSetPasswordToken(ctx context.Context, t *tenants.Tenant, token string) error {
	return c.d.Tokens.Check(ctx, t.ID, tokens.SetPassword, token)
}

// SetPassword sets the password of the customer a campaign link was sent
// to. The link is used only once the password passes the tenant's policy,
// and exactly once however many requests race. Following the link proves
// the mailbox, so the address is marked verified. Nobody is signed in: the
// customer logs in with the new password.
func (c *Campaigns) SetPassword(ctx context.Context, t *tenants.Tenant, token, password, ip string) error {
	if perr := c.d.Policy.Check("password", password, t.Settings.MinPasswordLength); perr != nil {
		if terr := c.d.Tokens.Check(ctx, t.ID, tokens.SetPassword, token); terr != nil {
			return terr
		}
		return perr
	}
	hash, err := c.d.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	red, err := c.d.Tokens.Redeem(ctx, t.ID, tokens.SetPassword, token)
	if err != nil {
		return err
	}
	store := c.d.Accounts.For(t.ID)
	cu, err := store.ByID(ctx, red.SubjectID)
	if err != nil {
		return tokens.ErrInvalid
	}
	if err := store.SetPasswordHash(ctx, cu.ID, hash); err != nil {
		return err
	}
	if !cu.EmailVerified {
		_ = store.MarkVerified(ctx, cu.ID, cu.Email)
	}
	if id, err := uuid.Parse(red.Data["campaign"]); err == nil {
		err := c.d.DB.WithContext(ctx).Table("password_campaign_recipients").
			Where("campaign_id = ? AND tenant_id = ? AND customer_id = ? AND used_at IS NULL", id, t.ID, cu.ID).Update("used_at", c.now()).Error
		if err != nil {
			return apperr.Wrap(err, "stamp campaign link")
		}
	}
	if c.d.Audit != nil {
		detail := map[string]any{"via": "campaign", "campaign": red.Data["campaign"]}
		if red.Data["via"] == "forgot" {
			detail = map[string]any{"via": "forgot"}
		}
		_ = c.d.Audit.Record(context.WithoutCancel(ctx), audit.Event{TenantID: t.ID, Actor: "customer:" + cu.ID.String(), Action: "customer.password.set",
			Target: cu.Email, IP: ip, Detail: detail})
	}
	return nil
}

func (c *Campaigns) record(ctx context.Context, tenantID uuid.UUID, a Actor, action string, id uuid.UUID, detail map[string]any) {
	if c.d.Audit == nil {
		return
	}
	_ = c.d.Audit.Record(context.WithoutCancel(ctx), audit.Event{TenantID: tenantID, Actor: a.Name, Action: action, Target: "campaign:" + id.String(), IP: a.IP, Detail: detail})
}

// fromOf is the From of a tenant's mail: the configured address under the
// tenant's name, as account mail has it.
func fromOf(mailFrom string, t *tenants.Tenant) string {
	addr := mailFrom
	if i := strings.LastIndexByte(addr, '<'); i >= 0 {
		addr = strings.TrimSuffix(addr[i+1:], ">")
	}
	name := t.Theme.DisplayName
	if name == "" {
		name = t.Name
	}
	name = strings.NewReplacer(`"`, "", `\`, "", "\r", "", "\n", "").Replace(name)
	return `"` + name + `" <` + addr + `>`
}
