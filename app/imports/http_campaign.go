package imports

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/imports"
)

// Campaign defaults offered by the form.
const (
	defaultRate       = 100
	defaultRemindDays = 3
)

func (h *Handlers) campaignsPanel(c *gin.Context, t *tenants.Tenant) (views.CampaignsPanel, error) {
	ctx := c.Request.Context()
	n, err := h.d.Campaigns.Candidates(ctx, t.ID)
	if err != nil {
		return views.CampaignsPanel{}, err
	}
	list, err := h.d.Campaigns.List(ctx, t.ID)
	if err != nil {
		return views.CampaignsPanel{}, err
	}
	v := views.CampaignsPanel{
		Action: base(t) + "/campaigns", Candidates: fmtInt(n), CandidatesText: customersHave(n), HasCandidates: n > 0,
		Rate: strconv.Itoa(defaultRate), RemindDays: strconv.Itoa(defaultRemindDays),
	}
	for _, cp := range list {
		row := views.CampaignRow{
			Status: campaignStatusView(cp.Status), Started: when(cp.CreatedAt), Recipients: fmtInt(int64(cp.Recipients)),
			Sent: fmtInt(cp.Sent), Reminded: fmtInt(cp.Reminded), Used: fmtInt(cp.Used),
			Rate: strconv.Itoa(cp.RatePerMinute) + "/min", Remind: "no reminder",
		}
		if cp.RemindAfterDays > 0 {
			row.Remind = "reminder after " + strconv.Itoa(cp.RemindAfterDays) + " d"
		}
		if cp.Status == CampaignRunning {
			v.Running = true
			row.StopAction = base(t) + "/campaigns/" + cp.ID.String() + "/stop"
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

func campaignStatusView(s CampaignStatus) views.Status {
	switch s {
	case CampaignDone:
		return views.Status{Label: "done", Kind: "ok"}
	case CampaignStopped:
		return views.Status{Label: "stopped", Kind: "off"}
	}
	return views.Status{Label: string(s)}
}

// StartCampaign starts a "set your password" campaign with the form's
// rate and reminder delay.
func (h *Handlers) StartCampaign(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	if h.d.Campaigns == nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return
	}
	rate, err1 := strconv.Atoi(strings.TrimSpace(c.PostForm("rate")))
	days, err2 := strconv.Atoi(strings.TrimSpace(c.PostForm("remind_days")))
	var err error
	switch {
	case err1 != nil:
		err = apperr.Field("rate", "must be a number of mails per minute")
	case err2 != nil:
		err = apperr.Field("remind_days", "must be a number of days")
	case c.PostForm("confirm") != "yes":
		// Mail to many people cannot be taken back: say how many, and how
		// fast, before anything is sent.
		h.confirmCampaign(c, t, rate, days)
		return
	default:
		_, err = h.d.Campaigns.Start(c.Request.Context(), t, h.d.Actor(c), rate, days)
	}
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.Invalid {
			h.d.Render.Error(c, err)
			return
		}
		v, lerr := h.listPage(c, t)
		if lerr != nil {
			h.d.Render.Error(c, lerr)
			return
		}
		v.Campaigns.Error = e.Error()
		h.page(c, http.StatusUnprocessableEntity, "Imports", views.List(v))
		return
	}
	seeOther(c, base(t))
}

// confirmCampaign asks before a campaign starts, with its recipients and
// throttle. Out-of-range numbers are refused by Start once confirmed, as
// they always were; the page only repeats what the form sent.
func (h *Handlers) confirmCampaign(c *gin.Context, t *tenants.Tenant, rate, days int) {
	n, err := h.d.Campaigns.Candidates(c.Request.Context(), t.ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v := views.CampaignConfirm{
		Action: base(t) + "/campaigns", Cancel: base(t), Rate: strconv.Itoa(rate), RemindDays: strconv.Itoa(days),
		Recipients: fmtInt(n) + " " + plural(n, "customer", "customers"),
		Throttle:   fmtInt(int64(rate)) + " " + plural(int64(rate), "mail", "mails") + " a minute",
		Reminder:   "no reminder",
	}
	if rate > 0 && n > 0 {
		minutes := (n + int64(rate) - 1) / int64(rate)
		v.Duration = "about " + fmtInt(minutes) + " " + plural(minutes, "minute", "minutes")
	}
	if days > 0 {
		v.Reminder = "a reminder after " + strconv.Itoa(days) + " " + plural(int64(days), "day", "days") + " to those who have not chosen a password"
	}
	h.page(c, http.StatusOK, "Send the mails?", views.ConfirmCampaign(v))
}

// customersHave is "1 customer has" or "3 customers have".
func customersHave(n int64) string {
	if n == 1 {
		return "1 customer has"
	}
	return fmtInt(n) + " customers have"
}

// plural picks the word for n.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// StopCampaign stops a running campaign.
func (h *Handlers) StopCampaign(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	id, err := uuid.Parse(c.Param("campaign"))
	if err != nil || h.d.Campaigns == nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return
	}
	if err := h.d.Campaigns.Stop(c.Request.Context(), t.ID, h.d.Actor(c), id); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	seeOther(c, base(t))
}
