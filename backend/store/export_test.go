package store

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/stdlib"
)

// OpenPostgresWith lets the package's external tests open a Postgres store
// whose connections they observe.
func OpenPostgresWith(ctx context.Context, url string, log *slog.Logger, opts ...stdlib.OptionOpenDB) (*Store, error) {
	return openPostgres(ctx, url, log, opts...)
}

// FewMax is the largest batch that takes the one-statement path.
const FewMax = fewMax
