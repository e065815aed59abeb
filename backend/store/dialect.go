package store

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
