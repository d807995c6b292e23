package access

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

// PendingSignInTTL is how long the code page of a sign-in stays open
// after the password was right.
const PendingSignInTTL = 5 * time.Minute

// pendingPurpose marks pending sign-ins in one_time_tokens.
const pendingPurpose = "staff_totp_login"

// ErrSignInExpired answers a code page whose pending sign-in is unknown,
// spent or past PendingSignInTTL, or whose staff member was disabled or
// turned two-factor off meanwhile: they start again with the password.
var ErrSignInExpired = apperr.New(apperr.Unauthorized, "Your sign-in has expired. Please sign in again.")

// FirstStep is a correct password. With two-factor sign-in on, Pending is
// the token of the code page and nobody is signed in yet; without it,
// Pending is empty and Staff is signed in.
type FirstStep struct {
	Staff   Staff
	Pending string
}

// BeginSignIn is Authenticate for the console's sign-in form: the same
// single answer and cost for every failure, but a staff member with
// two-factor sign-in on gets a pending sign-in, stored by its SHA-256 for
// PendingSignInTTL, in place of being signed in. staff.login is audited
// only once they are.
func (t *TwoFactor) BeginSignIn(ctx context.Context, email, password, ip string) (FirstStep, error) {
	st, err := t.staff.authenticate(ctx, email, password)
	if errors.Is(err, ErrBadCredentials) {
		target := strings.ToLower(strings.TrimSpace(email))
		if len(target) > 254 {
			target = target[:254]
		}
		t.staff.record(ctx, Actor{IP: ip}, PlatformDomain, "staff.login.failed", target, nil)
	}
	if err != nil {
		return FirstStep{}, err
	}
	r, err := t.row(ctx, t.staff.db, st.ID)
	if err != nil {
		return FirstStep{}, err
	}
	if !r.enabled() {
		t.staff.record(ctx, Actor{StaffID: st.ID, Email: st.Email, IP: ip}, PlatformDomain, "staff.login", st.Email, nil)
		return FirstStep{Staff: st}, nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return FirstStep{}, apperr.Wrap(err, "pending sign-in token")
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := t.staff.now()
	row := tokenRow{ID: hashToken(token), SubjectID: st.ID, Purpose: pendingPurpose, Data: datatypes.JSON("{}"), CreatedAt: now, ExpiresAt: now.Add(PendingSignInTTL)}
	if err := t.staff.db.WithContext(ctx).Create(&row).Error; err != nil {
		return FirstStep{}, apperr.Wrap(err, "store pending sign-in")
	}
	return FirstStep{Staff: st, Pending: token}, nil
}

// PendingSignIn returns whose sign-in token waits for a code, or
// ErrSignInExpired.
func (t *TwoFactor) PendingSignIn(ctx context.Context, token string) (Staff, error) {
	if token == "" || len(token) > 100 {
		return Staff{}, ErrSignInExpired
	}
	var tr tokenRow
	err := t.staff.db.WithContext(ctx).Where("id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), pendingPurpose, t.staff.now()).Take(&tr).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Staff{}, ErrSignInExpired
	}
	if err != nil {
		return Staff{}, apperr.Wrap(err, "find pending sign-in")
	}
	r, err := t.row(ctx, t.staff.db, tr.SubjectID)
	if apperr.Is(err, apperr.NotFound) || err == nil && (r.Status != string(Active) || !r.enabled()) {
		return Staff{}, ErrSignInExpired
	}
	if err != nil {
		return Staff{}, err
	}
	return t.staff.ByID(ctx, r.ID)
}

// SecondStep is a sign-in the code completed.
type SecondStep struct {
	Staff Staff
	// UsedRecoveryCode says the code was a recovery code; RecoveryCodesLeft
	// is then how many remain, for a warning.
	UsedRecoveryCode  bool
	RecoveryCodesLeft int
}

// FinishSignIn completes the pending sign-in token with code, a current
// TOTP code or an unused recovery code. The token and the code are spent
// in one transaction, so a wrong code leaves the token for another try
// and of two requests racing, one wins. A wrong code is ErrWrongCode,
// audited as staff.login.totp_failed; a recovery code is audited as
// staff.recovery_code.used, and the sign-in as staff.login.
func (t *TwoFactor) FinishSignIn(ctx context.Context, token, code, ip string) (SecondStep, error) {
	if token == "" || len(token) > 100 {
		return SecondStep{}, ErrSignInExpired
	}
	code = normalizeCode(code)
	now := t.staff.now()
	var (
		r      totpRow
		method string
	)
	err := t.staff.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&tokenRow{}).
			Where("id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), pendingPurpose, now).
			Update("used_at", now)
		if res.Error != nil {
			return apperr.Wrap(res.Error, "spend pending sign-in")
		}
		if res.RowsAffected != 1 {
			return ErrSignInExpired
		}
		var tr tokenRow
		if err := tx.Where("id = ?", hashToken(token)).Take(&tr).Error; err != nil {
			return apperr.Wrap(err, "read pending sign-in")
		}
		var err error
		r, err = t.row(ctx, tx, tr.SubjectID)
		if apperr.Is(err, apperr.NotFound) || err == nil && (r.Status != string(Active) || !r.enabled()) {
			return ErrSignInExpired
		}
		if err != nil {
			return err
		}
		method, err = t.checkCode(ctx, tx, r.ID, code, now)
		return err
	})
	if errors.Is(err, ErrWrongCode) {
		t.staff.record(ctx, Actor{IP: ip}, PlatformDomain, "staff.login.totp_failed", r.Email, nil)
	}
	if err != nil {
		return SecondStep{}, err
	}
	if err := t.staff.staff.update(ctx, t.staff.db, r.ID, map[string]any{"last_login_at": now}); err != nil {
		return SecondStep{}, err
	}
	st, err := t.staff.ByID(ctx, r.ID)
	if err != nil {
		return SecondStep{}, err
	}
	actor := Actor{StaffID: st.ID, Email: st.Email, IP: ip}
	out := SecondStep{Staff: st}
	if method == "recovery_code" {
		left, err := recoveryCodesLeft(ctx, t.staff.db, st.ID)
		if err != nil {
			return SecondStep{}, err
		}
		out.UsedRecoveryCode, out.RecoveryCodesLeft = true, left
		t.staff.record(ctx, actor, PlatformDomain, "staff.recovery_code.used", st.Email, map[string]any{"left": left})
	}
	t.staff.record(ctx, actor, PlatformDomain, "staff.login", st.Email, map[string]any{"second_factor": method})
	return out, nil
}
