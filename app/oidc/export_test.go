package oidc

import "time"

// SetKeysClock lets tests move the key store's clock through a rotation.
func SetKeysClock(k *Keys, now func() time.Time) { k.now = now }
