package app

import (
	"context"

	"github.com/chatapp/chat/chat"
)

// MessageSearch is the input of GET /search/messages.
type MessageSearch struct {
	Page
	GroupID int64 // 0: every group of the caller's
}

// SearchMessages finds messages of the caller's groups (or of one of them,
// which the caller must be a member of) by their current body.
func (s *Service) SearchMessages(ctx context.Context, uid int64, in MessageSearch) ([]chat.Message, string, error) {
	q, qErr := chat.ParseSearch(in.Query)
	limit, limitErr := chat.SearchLimit(in.Limit)
	if qErr != nil && limitErr == nil {
		return nil, "", qErr // keeps its own code (search_query_empty)
	}
	if err := chat.Merge(qErr, limitErr); err != nil {
		return nil, "", err
	}
	if in.GroupID != 0 {
		if _, err := s.member(ctx, uid, in.GroupID); err != nil {
			return nil, "", err
		}
	}
	items, next, err := s.Store.SearchMessages(ctx, uid, in.GroupID, q, limit, in.Cursor)
	if err != nil {
		return nil, "", searchErr("search messages", err)
	}
	return items, next, nil
}
