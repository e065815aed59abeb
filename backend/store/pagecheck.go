package store

import (
	"context"
	"fmt"

	"github.com/chatapp/chat/chat"
)

// MemberNames checks that userID is a member of groupID and reads the
// display names of users, in one statement: what a history page served
// from memory still needs from the database (the membership, and the one
// field of a page that changes without an event). The caller is read
// with the others, so a member always gets a row: none means not a member.
func (s *Store) MemberNames(ctx context.Context, groupID, userID int64, users []int64) (map[int64]string, error) {
	ids := make([]int64, 0, len(users)+1)
	ids = append(append(ids, userID), users...)
	cond, args := s.d.idsIn("id", ids, 2)
	release, err := s.admitPage(ctx)
	if err != nil {
		return nil, s.wrap("member names", err)
	}
	defer release()
	rs, err := s.rsql.QueryContext(ctx, `SELECT id, display_name FROM users WHERE `+cond+`
AND EXISTS (SELECT 1 FROM memberships WHERE group_id = $1 AND user_id = $2)`,
		append([]any{groupID, userID}, args...)...)
	if err != nil {
		return nil, s.wrap("member names", err)
	}
	defer rs.Close()
	names := make(map[int64]string, len(ids))
	for rs.Next() {
		var id int64
		var name string
		if err := rs.Scan(&id, &name); err != nil {
			return nil, s.wrap("member names", err)
		}
		names[id] = name
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap("member names", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("member names: group %d, user %d: %w", groupID, userID, chat.ErrNoMembership)
	}
	return names, nil
}
