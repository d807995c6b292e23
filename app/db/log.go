package db

import (
	"context"
	"errors"
	"log/slog"
	"path"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// queryLog is gorm's logger. It never writes a statement's SQL: the text
// gorm hands a logger carries the statement's values (gorm interpolates
// them for Explain and for Scan, whatever the filter says), and those
// values are password hashes, tokens and profile data. A slow or failed
// statement is logged by the line of our code that issued it, which finds
// the query just as well, with its duration, rows and error.
//
// Errors the stores handle as answers, a missing row and a duplicate key,
// are not logged at all: they are how "no such customer" and "this email is
// taken" are asked.
type queryLog struct {
	log  *slog.Logger
	slow time.Duration
}

var (
	_ logger.Interface  = queryLog{}
	_ gorm.ParamsFilter = queryLog{}
)

// LogMode keeps the logger as it is: db.Debug() would otherwise turn on
// logging every statement, values included.
func (l queryLog) LogMode(logger.LogLevel) logger.Interface { return l }

// Info, Warn and Error carry gorm's own notices. Only the message's format
// is logged, never its arguments, which can be a row's values.
func (l queryLog) Info(ctx context.Context, msg string, _ ...any) {
	l.log.DebugContext(ctx, "database_notice", "detail", msg)
}

// Warn logs one of gorm's warnings; see Info.
func (l queryLog) Warn(ctx context.Context, msg string, _ ...any) {
	l.log.WarnContext(ctx, "database_notice", "detail", msg)
}

// Error logs one of gorm's errors; see Info.
func (l queryLog) Error(ctx context.Context, msg string, _ ...any) {
	l.log.ErrorContext(ctx, "database_notice", "detail", msg)
}

// Trace logs a statement that failed unexpectedly (at error) or was slow
// (at warn), and nothing else.
func (l queryLog) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	level, msg := slog.LevelError, "database_error"
	switch {
	case err != nil && !handled(err):
	case l.slow > 0 && elapsed > l.slow:
		level, msg = slog.LevelWarn, "database_slow_query"
	default:
		return
	}
	if !l.log.Enabled(ctx, level) {
		return
	}
	_, rows := fc()
	attrs := []slog.Attr{
		slog.String("source", caller()),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.Int64("rows", rows),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.log.LogAttrs(ctx, level, msg, attrs...)
}

// ParamsFilter drops a statement's values before gorm builds the text it
// passes to Trace, so that even the text nobody logs has none.
func (queryLog) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// handled reports whether err is one the stores turn into an answer.
func handled(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, gorm.ErrDuplicatedKey)
}

// caller is the first frame outside gorm and this logger, as dir/file:line.
func caller() string {
	var pcs [32]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs[:])])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "gorm.io/") && !strings.HasPrefix(f.Function, "gatehouse/app/db.") && f.File != "" {
			return path.Join(path.Base(path.Dir(f.File)), path.Base(f.File)) + ":" + strconv.Itoa(f.Line)
		}
		if !more {
			return ""
		}
	}
}
