package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slowQuery is the duration above which a statement is logged as slow.
const slowQuery = 200 * time.Millisecond

// gormLogger sends GORM's statement traces to slog: slow statements at warn,
// every statement at debug. Failed statements are not logged here: the store
// returns the error and the caller decides (a unique violation on an
// idempotent retry is not a problem worth a log line).
type gormLogger struct {
	log  *slog.Logger
	slow time.Duration // slowQuery; tests lower it
}

func newGormLogger(log *slog.Logger) logger.Interface { return gormLogger{log: log, slow: slowQuery} }

func (l gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.DebugContext(ctx, "gorm", "msg", msg, "args", args)
}

func (l gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, "gorm", "msg", msg, "args", args)
}

func (l gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, "gorm", "msg", msg, "args", args)
}

func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case elapsed > l.slow:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow query", "duration", elapsed, "sql", sql, "rows", rows, "err", errText(err))
	case l.log.Enabled(ctx, slog.LevelDebug):
		sql, rows := fc()
		l.log.DebugContext(ctx, "query", "duration", elapsed, "sql", sql, "rows", rows, "err", errText(err))
	}
}

func errText(err error) string {
	if err == nil || errors.Is(err, gorm.ErrRecordNotFound) {
		return ""
	}
	return err.Error()
}

// ParamsFilter keeps bound values (password hashes, token hashes, message
// text, search terms) out of logged statements, at every level: they show
// their placeholders instead. gorm's (*DB).Scan bypasses it (its recorder
// renders the values first), so the store never calls it (TestNoGormScan).
func (l gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
