package app

// SetAfterFillRead makes every fill of c run f between its database read
// and its keep (a test stages an event there).
func SetAfterFillRead(c *PageCache, f func(groupID int64)) { c.afterRead = f }
