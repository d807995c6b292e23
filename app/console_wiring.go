package app

import "gatehouse/app/access"

// policyClock is the Redis key every node watches for role changes.
func policyClock(rc *redisConn) access.Clock {
	return access.NewRedisClock(rc.client, rc.prefix+"access:policy")
}
