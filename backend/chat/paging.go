package chat

import "strconv"

// Page sizes of API.md: a list answers Default items unless the client asks
// for 1 to Max.
const (
	HistoryPageDefault = 50
	HistoryPageMax     = 200
	SearchPageDefault  = 20
	SearchPageMax      = 100
)

// HistoryLimit is the size of a history page asked for as n (0: the
// default), or a validation error naming "limit".
func HistoryLimit(n int) (int, *Error) { return pageLimit(n, HistoryPageDefault, HistoryPageMax) }

// SearchLimit is the size of a search page asked for as n (0: the
// default), or a validation error naming "limit". A limit out of range is
// refused rather than silently clamped, so that a client that asks for
// 1000 learns it gets at most 100.
func SearchLimit(n int) (int, *Error) { return pageLimit(n, SearchPageDefault, SearchPageMax) }

// ClampSearchLimit is SearchLimit for a caller that cannot refuse (a
// store): 0 or less is the default, more than the maximum the maximum.
func ClampSearchLimit(n int) int {
	if n <= 0 {
		return SearchPageDefault
	}
	return min(n, SearchPageMax)
}

func pageLimit(n, def, maxN int) (int, *Error) {
	if n == 0 {
		return def, nil
	}
	if n < 1 || n > maxN {
		return 0, field("limit", "must be between 1 and "+strconv.Itoa(maxN))
	}
	return n, nil
}

// HistoryQuery selects a page of a group's messages. With After set it
// returns the oldest Limit messages above *After (catching up: 0 reads from
// the start); otherwise the newest Limit messages below BeforeSeq (0: no
// bound). Items are ascending by seq either way; hasMore tells whether more
// exist in the direction of the query. A Limit of 0 is the default page.
//
// With Member set, the page is read only if that user is a member of the
// group, in the same statement (the history endpoint's hot path needs no
// read of its own before it); otherwise the read fails with
// ErrNoMembership.
type HistoryQuery struct {
	After     *int64
	BeforeSeq int64
	Limit     int
	Member    int64
}
