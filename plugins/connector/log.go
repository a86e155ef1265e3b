package connector

import (
	"context"
	"log/slog"
)

type logKey struct{}

// WithLogger returns a context that carries l for Log. The SDK and the
// host put the source's logger there before calling a connector.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}

// Log returns the logger a connector should log with: the one carried by
// ctx, or slog.Default(). In a plugin process it writes to stderr, which
// the host relays tagged with the source name. Never log secrets.
func Log(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
