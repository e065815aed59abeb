package app

import (
	"context"

	"github.com/chatapp/chat/chat"
)

// React adds (add) or removes the caller's emoji on a message of one of
// the caller's groups. Both are idempotent: only a change is announced, by
// a reaction event to the group's members.
func (s *Service) React(ctx context.Context, uid, mid int64, emoji string, add bool) error {
	emoji, emojiErr := chat.NormalizeEmoji(emoji)
	if emojiErr != nil {
		return emojiErr
	}
	m, _, err := s.visibleMessage(ctx, uid, mid)
	if err != nil {
		return err
	}
	if m.Deleted {
		return conflict("The message was deleted.")
	}
	var changed bool
	if add {
		changed, err = s.Store.AddReaction(ctx, mid, uid, emoji, s.now())
	} else {
		changed, err = s.Store.RemoveReaction(ctx, mid, uid, emoji)
	}
	if err != nil {
		return orNotFound(err, "react", "message")
	}
	if changed {
		s.notify(ctx, chat.Event{
			Type: chat.EventReaction, GroupID: m.GroupID, MessageID: mid, Seq: m.Seq,
			Emoji: emoji, UserID: uid, Added: &add,
		})
	}
	return nil
}
