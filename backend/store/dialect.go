package store

import (
	"strconv"
	"strings"
	"time"
)

// dialect names the database and holds the few pieces of SQL that differ.
type dialect string

const (
	dialectPostgres dialect = "postgres"
	dialectSQLite   dialect = "sqlite"
)

// position returns the SQL for the 1-based position of needle in haystack
// (0 when absent).
func (d dialect) position(haystack, needle string) string {
	if d == dialectPostgres {
		return "strpos(" + haystack + ", " + needle + ")"
	}
	return "instr(" + haystack + ", " + needle + ")"
}

// column is one column of the rows a statement binds (see rows).
type column struct {
	pgType string // the Postgres type of an element
	array  any    // the whole column, a Postgres array
	at     func(i int) any
}

func int64s(v []int64) column {
	return column{"bigint", v, func(i int) any { return v[i] }}
}

func texts(v []string) column {
	return column{"text", v, func(i int) any { return v[i] }}
}

func optionalTexts(v []*string) column {
	return column{"text", v, func(i int) any { return v[i] }}
}

func optionalInt64s(v []*int64) column {
	return column{"bigint", v, func(i int) any { return v[i] }}
}

func bools(v []bool) column {
	return column{"boolean", v, func(i int) any { return v[i] }}
}

func times(v []time.Time) column {
	return column{"timestamptz", v, func(i int) any { return v[i] }}
}

// rows binds n rows of the given columns as the body of a WITH clause
// ("WITH v(a, b) AS (" + rows + ")") and returns it with its arguments,
// which are the statement's only ones. On Postgres each column is one
// array, so the statement's text is the same whatever n and pgx prepares it
// once per connection; on SQLite it is a VALUES list.
func (d dialect) rows(n int, cols ...column) (string, []any) {
	if d == dialectPostgres {
		params := make([]string, len(cols))
		args := make([]any, len(cols))
		for j, c := range cols {
			params[j] = "$" + strconv.Itoa(j+1) + "::" + c.pgType + "[]"
			args[j] = c.array
		}
		return "SELECT * FROM unnest(" + strings.Join(params, ", ") + ")", args
	}
	args := make([]any, 0, n*len(cols))
	for i := range n {
		for _, c := range cols {
			args = append(args, c.at(i))
		}
	}
	return "VALUES " + placeholders(n, len(cols)), args
}

// placeholders returns n rows of a VALUES list of width columns for SQLite:
// "(?, ?), (?, ?)".
func placeholders(n, width int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	var b strings.Builder
	b.Grow(n * (len(row) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// lockGroups returns what an UPDATE of groups FROM v(gid, …) adds to lock
// those groups in id order first: a further WITH clause and a join. On
// Postgres this keeps two instances committing batches with common groups
// from deadlocking; SQLite has one writer at a time and needs nothing.
func (d dialect) lockGroups() (with, join string) {
	if d != dialectPostgres {
		return "", ""
	}
	return `,
locked AS MATERIALIZED (SELECT id AS locked_id FROM groups WHERE id IN (SELECT gid FROM v) ORDER BY id FOR UPDATE)`,
		` JOIN locked ON locked.locked_id = v.gid`
}
