package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

// RecoveryCodeCount is how many recovery codes an enrolment gives.
const RecoveryCodeCount = 10

// recoveryAlphabet is Crockford's base32: no i, l, o or u, so a code
// copied from paper reads back the same; a byte masked to 5 bits picks a
// symbol uniformly.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// crockford reads the letters people write for 0 and 1 as those digits.
var crockford = strings.NewReplacer("o", "0", "i", "1", "l", "1")

// recoveryRow is one recovery code, stored by its SHA-256.
type recoveryRow struct {
	StaffID  uuid.UUID
	CodeHash string
	UsedAt   *time.Time
}

func (recoveryRow) TableName() string { return "staff_recovery_codes" }

// newRecoveryCodes returns RecoveryCodeCount fresh codes of 10 symbols
// (50 bits from crypto/rand), written "xxxxx-xxxxx".
func newRecoveryCodes() ([]string, error) {
	codes := make([]string, 0, RecoveryCodeCount)
	seen := map[string]bool{}
	for len(codes) < RecoveryCodeCount {
		var raw [10]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return nil, apperr.Wrap(err, "recovery codes")
		}
		b := make([]byte, 0, 11)
		for i, x := range raw {
			if i == 5 {
				b = append(b, '-')
			}
			b = append(b, recoveryAlphabet[x&31])
		}
		if code := string(b); !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
	}
	return codes, nil
}

// hashRecoveryCode is the stored form of a code, typed in any case, with
// or without its dash.
func hashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(crockford.Replace(normalizeCode(code))))
	return hex.EncodeToString(sum[:])
}

// replaceRecoveryCodes deletes staffID's codes and stores codes, in tx.
func replaceRecoveryCodes(ctx context.Context, tx *gorm.DB, staffID uuid.UUID, codes []string) error {
	if err := tx.WithContext(ctx).Where("staff_id = ?", staffID).Delete(&recoveryRow{}).Error; err != nil {
		return apperr.Wrap(err, "delete recovery codes")
	}
	rows := make([]recoveryRow, 0, len(codes))
	for _, c := range codes {
		rows = append(rows, recoveryRow{StaffID: staffID, CodeHash: hashRecoveryCode(c)})
	}
	if err := tx.WithContext(ctx).Create(&rows).Error; err != nil {
		return apperr.Wrap(err, "store recovery codes")
	}
	return nil
}

// spendRecoveryCode marks one of staffID's unused codes used. The one
// UPDATE is the check, so two requests racing with a code cannot both get
// true.
func spendRecoveryCode(ctx context.Context, tx *gorm.DB, staffID uuid.UUID, code string, now time.Time) (bool, error) {
	if code == "" {
		return false, nil
	}
	res := tx.WithContext(ctx).Model(&recoveryRow{}).
		Where("staff_id = ? AND code_hash = ? AND used_at IS NULL", staffID, hashRecoveryCode(code)).
		Update("used_at", now)
	if res.Error != nil {
		return false, apperr.Wrap(res.Error, "spend recovery code")
	}
	return res.RowsAffected == 1, nil
}

// recoveryCodesLeft counts staffID's unused codes.
func recoveryCodesLeft(ctx context.Context, db *gorm.DB, staffID uuid.UUID) (int, error) {
	var n int64
	if err := db.WithContext(ctx).Model(&recoveryRow{}).Where("staff_id = ? AND used_at IS NULL", staffID).Count(&n).Error; err != nil {
		return 0, apperr.Wrap(err, "count recovery codes")
	}
	return int(n), nil
}
