package access

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"image"
	"image/draw"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"

	"gatehouse/app/secrets"
	"gatehouse/apperr"
)

// TOTP as every authenticator app reads it (RFC 6238 defaults): 6 digits
// from HMAC-SHA-1 over 30-second steps. One step either side is accepted,
// for a phone whose clock is a little off.
const (
	totpPeriod = 30
	totpSkew   = 1
	totpIssuer = "Gatehouse"
)

// TwoFactor is the optional second factor of staff sign-in: a TOTP app,
// with single-use recovery codes for a lost phone. A secret is sealed at
// rest under the context "totp:<staff id>", pending until a code from the
// app confirms it; each accepted code moves the staff member's last time
// step forward, so no code works twice.
type TwoFactor struct {
	staff *Service
	box   *secrets.Box
}

// NewTwoFactor returns the second factor of staff's sign-in, sealing
// secrets in box.
func NewTwoFactor(staff *Service, box *secrets.Box) *TwoFactor {
	return &TwoFactor{staff: staff, box: box}
}

// The answers a caller must tell apart.
var (
	// ErrWrongCode is a TOTP or recovery code that does not match, or was
	// already used. Callers count it against the staff member's throttle.
	ErrWrongCode = &apperr.Error{Code: apperr.Unauthorized, Field: "code", Message: "That code is not right. Try the newest code from your app, or a recovery code."}
	// ErrWrongPassword is a wrong password given to turn two-factor off.
	ErrWrongPassword = &apperr.Error{Code: apperr.Unauthorized, Field: "password", Message: "That password is not right."}

	errTOTPOn    = apperr.New(apperr.Conflict, "Two-factor sign-in is already on. Turn it off first to move it to another device.")
	errTOTPOff   = apperr.New(apperr.Conflict, "Two-factor sign-in is not on.")
	errNoPending = apperr.New(apperr.Conflict, "This set-up was replaced or has not been started. Start again.")
)

// TOTPStatus is what a staff member's security page shows.
type TOTPStatus struct {
	Enabled           bool
	EnabledAt         time.Time
	RecoveryCodesLeft int
}

// Enrolment is a set-up in progress: what the authenticator app needs,
// as a QR code (URI) and as text (Secret).
type Enrolment struct {
	Secret string // base32, as apps accept it typed in
	URI    string // otpauth://totp/…
}

// QRCode is the enrolment's URI as a size×size QR code, on a white
// margin (the quiet zone scanners need) whatever the page around it.
func (e Enrolment) QRCode(size int) (image.Image, error) {
	key, err := otp.NewKeyFromURL(e.URI)
	if err != nil {
		return nil, apperr.Wrap(err, "read otpauth URI")
	}
	margin := size / 10
	code, err := key.Image(size-2*margin, size-2*margin)
	if err != nil {
		return nil, apperr.Wrap(err, "draw QR code")
	}
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(img, code.Bounds().Add(image.Pt(margin, margin)), code, code.Bounds().Min, draw.Src)
	return img, nil
}

// totpRow is the two-factor columns of a staff row.
type totpRow struct {
	ID        uuid.UUID
	Email     string
	Status    string
	Secret    *string    `gorm:"column:totp_secret"`
	EnabledAt *time.Time `gorm:"column:totp_enabled_at"`
	LastStep  *int64     `gorm:"column:totp_last_step"`
}

func (totpRow) TableName() string { return "staff" }

func (r totpRow) enabled() bool { return r.EnabledAt != nil && r.Secret != nil }

func (t *TwoFactor) row(ctx context.Context, tx *gorm.DB, id uuid.UUID) (totpRow, error) {
	var r totpRow
	err := tx.WithContext(ctx).Select("id, email, status, totp_secret, totp_enabled_at, totp_last_step").Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, errNoStaff
	}
	if err != nil {
		return r, apperr.Wrap(err, "find staff")
	}
	return r, nil
}

func sealContext(id uuid.UUID) string { return "totp:" + id.String() }

// secret opens the row's sealed secret.
func (t *TwoFactor) secret(r totpRow) (string, error) {
	if r.Secret == nil {
		return "", errNoPending
	}
	s, err := t.box.Open(*r.Secret, sealContext(r.ID))
	if err != nil {
		return "", apperr.Wrap(err, "open TOTP secret of staff %s", r.ID)
	}
	return s, nil
}

// Status says whether staffID has two-factor sign-in on.
func (t *TwoFactor) Status(ctx context.Context, staffID uuid.UUID) (TOTPStatus, error) {
	r, err := t.row(ctx, t.staff.db, staffID)
	if err != nil || !r.enabled() {
		return TOTPStatus{}, err
	}
	n, err := recoveryCodesLeft(ctx, t.staff.db, staffID)
	if err != nil {
		return TOTPStatus{}, err
	}
	return TOTPStatus{Enabled: true, EnabledAt: r.EnabledAt.UTC(), RecoveryCodesLeft: n}, nil
}

// Start begins a set-up for the actor: a new secret, stored sealed and
// pending until Confirm. Starting again replaces a pending secret; one in
// force is a Conflict, so a stolen session cannot move it to another phone
// without first passing Disable.
func (t *TwoFactor) Start(ctx context.Context, actor Actor) (Enrolment, error) {
	r, err := t.row(ctx, t.staff.db, actor.StaffID)
	if err != nil {
		return Enrolment{}, err
	}
	if r.enabled() {
		return Enrolment{}, errTOTPOn
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: r.Email, Period: totpPeriod})
	if err != nil {
		return Enrolment{}, apperr.Wrap(err, "generate TOTP secret")
	}
	sealed, err := t.box.Seal(key.Secret(), sealContext(r.ID))
	if err != nil {
		return Enrolment{}, apperr.Wrap(err, "seal TOTP secret")
	}
	res := t.staff.db.WithContext(ctx).Model(&totpRow{}).
		Where("id = ? AND totp_enabled_at IS NULL", r.ID).
		Updates(map[string]any{"totp_secret": sealed, "totp_last_step": nil, "updated_at": t.staff.now()})
	if res.Error != nil {
		return Enrolment{}, apperr.Wrap(res.Error, "store TOTP secret")
	}
	if res.RowsAffected != 1 {
		return Enrolment{}, errTOTPOn
	}
	return Enrolment{Secret: key.Secret(), URI: key.URL()}, nil
}

// Pending returns the actor's set-up in progress again, for a second try
// at confirming it.
func (t *TwoFactor) Pending(ctx context.Context, staffID uuid.UUID) (Enrolment, error) {
	r, err := t.row(ctx, t.staff.db, staffID)
	if err != nil {
		return Enrolment{}, err
	}
	if r.enabled() {
		return Enrolment{}, errTOTPOn
	}
	secret, err := t.secret(r)
	if err != nil {
		return Enrolment{}, err
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return Enrolment{}, apperr.Wrap(err, "decode TOTP secret")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: r.Email, Period: totpPeriod, Secret: raw})
	if err != nil {
		return Enrolment{}, apperr.Wrap(err, "rebuild otpauth URI")
	}
	return Enrolment{Secret: key.Secret(), URI: key.URL()}, nil
}

// Confirm puts the actor's pending secret in force when code is its
// current code, and returns RecoveryCodeCount new recovery codes: the only
// time anyone sees them. Earlier codes are deleted, in the same
// transaction. Audited as staff.totp.enabled.
func (t *TwoFactor) Confirm(ctx context.Context, actor Actor, code string) ([]string, error) {
	r, err := t.row(ctx, t.staff.db, actor.StaffID)
	if err != nil {
		return nil, err
	}
	if r.enabled() {
		return nil, errTOTPOn
	}
	secret, err := t.secret(r)
	if err != nil {
		return nil, err
	}
	code = normalizeCode(code)
	if code == "" {
		return nil, apperr.Field("code", "Enter the 6-digit code your app shows.")
	}
	now := t.staff.now()
	step, ok := matchStep(secret, code, now)
	if !ok {
		return nil, apperr.Field("code", "That code is not right. Check that your phone's clock is set automatically and enter the newest code.")
	}
	codes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	err = t.staff.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Guarded by the secret that was checked: a Start in between
		// replaced it, and this code proves nothing about the new one.
		res := tx.Model(&totpRow{}).
			Where("id = ? AND totp_secret = ? AND totp_enabled_at IS NULL", r.ID, *r.Secret).
			Updates(map[string]any{"totp_enabled_at": now, "totp_last_step": step, "updated_at": now})
		if res.Error != nil {
			return apperr.Wrap(res.Error, "enable TOTP")
		}
		if res.RowsAffected != 1 {
			return errNoPending
		}
		return replaceRecoveryCodes(ctx, tx, r.ID, codes)
	})
	if err != nil {
		return nil, err
	}
	t.staff.record(ctx, actor, PlatformDomain, "staff.totp.enabled", r.Email, nil)
	return codes, nil
}

// Disable turns the actor's second factor off and deletes their recovery
// codes. It asks for proof first, a current code (or recovery code) or
// the password, so a session left open is not enough. Audited as
// staff.totp.disabled.
func (t *TwoFactor) Disable(ctx context.Context, actor Actor, code, password string) error {
	r, err := t.row(ctx, t.staff.db, actor.StaffID)
	if err != nil {
		return err
	}
	if !r.enabled() {
		return errTOTPOff
	}
	code = normalizeCode(code)
	switch {
	case code != "":
		// Checked below, in the transaction that spends it.
	case password != "":
		if err := t.checkPassword(ctx, r.ID, password); err != nil {
			return err
		}
	default:
		return apperr.Field("code", "Enter a code from your authenticator app, or your password.")
	}
	now := t.staff.now()
	proof := "password"
	err = t.staff.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if code != "" {
			var err error
			if proof, err = t.checkCode(ctx, tx, r.ID, code, now); err != nil {
				return err
			}
		}
		res := tx.Model(&totpRow{}).Where("id = ? AND totp_enabled_at IS NOT NULL", r.ID).
			Updates(map[string]any{"totp_secret": nil, "totp_enabled_at": nil, "totp_last_step": nil, "updated_at": now})
		if res.Error != nil {
			return apperr.Wrap(res.Error, "disable TOTP")
		}
		if res.RowsAffected != 1 {
			return errTOTPOff
		}
		if err := tx.Where("staff_id = ?", r.ID).Delete(&recoveryRow{}).Error; err != nil {
			return apperr.Wrap(err, "delete recovery codes")
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.staff.record(ctx, actor, PlatformDomain, "staff.totp.disabled", r.Email, map[string]any{"proof": proof})
	return nil
}

// checkPassword verifies staffID's password, for Disable.
func (t *TwoFactor) checkPassword(ctx context.Context, staffID uuid.UUID, password string) error {
	sr, err := t.staff.staff.byID(ctx, staffID)
	if err != nil {
		return err
	}
	var encoded string
	if sr.PasswordHash != nil {
		encoded = *sr.PasswordHash
	}
	ok, _, err := t.staff.hasher.Verify(ctx, encoded, password)
	if err != nil {
		return err
	}
	if !ok || encoded == "" {
		return ErrWrongPassword
	}
	return nil
}

// checkCode accepts code, within tx, as staffID's current TOTP code or one
// of their unused recovery codes, and spends it: the TOTP time step by
// moving totp_last_step forward, the recovery code by setting used_at,
// each in one guarded UPDATE, so of two requests racing with one code only
// one wins. It returns which kind of code it was, or ErrWrongCode.
func (t *TwoFactor) checkCode(ctx context.Context, tx *gorm.DB, staffID uuid.UUID, code string, now time.Time) (string, error) {
	if isTOTPCode(code) {
		r, err := t.row(ctx, tx, staffID)
		if err != nil {
			return "", err
		}
		if !r.enabled() {
			return "", ErrWrongCode
		}
		secret, err := t.secret(r)
		if err != nil {
			return "", err
		}
		step, ok := matchStep(secret, code, now)
		if !ok {
			return "", ErrWrongCode
		}
		res := tx.WithContext(ctx).Model(&totpRow{}).
			Where("id = ? AND totp_enabled_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < ?)", staffID, step).
			Update("totp_last_step", step)
		if res.Error != nil {
			return "", apperr.Wrap(res.Error, "spend TOTP step")
		}
		if res.RowsAffected != 1 {
			return "", ErrWrongCode // this step, or a later one, was used already
		}
		return "totp", nil
	}
	ok, err := spendRecoveryCode(ctx, tx, staffID, code, now)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrWrongCode
	}
	return "recovery_code", nil
}

// matchStep returns the time step whose code is code, trying the current
// step and totpSkew either side; when two match, the later one, so that
// more codes count as used.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	if !isTOTPCode(code) {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	var found int64
	ok := false
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, ok = step, true
		}
	}
	return found, ok
}

// normalizeCode drops what people type around a code: spaces, dashes,
// and the case of a recovery code.
func normalizeCode(code string) string {
	if len(code) > 64 {
		return "x" // longer than any code; never matches
	}
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code))
}

func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
