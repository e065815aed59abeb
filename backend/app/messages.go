package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatapp/chat/chat"
)

// Outgoing is a message to send.
type Outgoing struct {
	Body     string
	ClientID *string
	// ReplyTo is the id of the message of the same group this one answers.
	ReplyTo *int64
	// Attachments are the ids of the sender's uploads to the group, not
	// yet in a message; with some, the body may be empty.
	Attachments []int64
}

// MarkRead moves the caller's read marker forward. conn names the WebSocket
// connection it came from ("" for REST) so that only the user's other
// connections get the read event.
func (s *Service) MarkRead(ctx context.Context, uid, gid, seq int64, conn string) error {
	if seq < 0 {
		return chat.Invalid(map[string]string{"seq": "must not be negative"})
	}
	a, err := s.member(ctx, uid, gid)
	if err != nil {
		return err
	}
	marker, err := s.Store.MarkRead(ctx, gid, uid, seq)
	if err != nil {
		return orNotFound(err, "mark read", "group")
	}
	// Only a marker that moved is news to anyone.
	if marker <= a.m.LastReadSeq {
		return nil
	}
	shares := false
	if me, err := s.Store.Account(ctx, uid); err != nil {
		// The marker moved; the receipt is a courtesy that fails closed.
		s.Log.WarnContext(ctx, "read: load account", "user_id", uid, "err", err)
	} else {
		shares = me.ShareReadReceipts != nil && *me.ShareReadReceipts
	}
	for _, ev := range chat.ReadEvents(gid, uid, marker, conn, shares) {
		s.notify(ctx, ev)
	}
	return nil
}

// History returns a page of a group's messages to a member.
func (s *Service) History(ctx context.Context, uid, gid int64, q chat.HistoryQuery) ([]chat.Message, bool, error) {
	var limitErr *chat.Error
	q.Limit, limitErr = chat.HistoryLimit(q.Limit)
	problems := []*chat.Error{limitErr}
	if q.BeforeSeq < 0 {
		problems = append(problems, chat.Invalid(map[string]string{"before_seq": "must not be negative"}))
	}
	if q.After != nil && *q.After < 0 {
		problems = append(problems, chat.Invalid(map[string]string{"after_seq": "must not be negative"}))
	}
	if q.BeforeSeq > 0 && q.After != nil {
		problems = append(problems, chat.Invalid(map[string]string{"before_seq": "cannot be combined with after_seq"}))
	}
	if err := chat.Merge(problems...); err != nil {
		return nil, false, err
	}
	if q.BeforeSeq == 0 && q.After == nil {
		items, more, served, err := s.latestPage(ctx, uid, gid, q.Limit)
		if err != nil {
			return nil, false, err
		}
		if served {
			s.Presenter().Messages(items, uid)
			return items, more, nil
		}
	}
	q.Member = uid
	var items []chat.Message
	var more bool
	err := s.asMember(ctx, uid, gid, func() (err error) {
		items, more, err = s.Store.Messages(ctx, gid, q)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("history: %w", err)
	}
	s.Presenter().Messages(items, uid)
	return items, more, nil
}

// Send stores a message (idempotent on client_id) and, after the commit,
// notifies; created is false for a repeat.
func (s *Service) Send(ctx context.Context, uid, gid int64, in Outgoing) (msg chat.Message, created bool, err error) {
	err = s.StartSend(ctx, uid, gid, in)(func(m chat.Message, c bool) { msg, created = m, c })
	return msg, created, err
}

// StartSend is Send in two steps, for a connection with several sends in
// flight: it validates the message and queues it for storing at once, then
// returns the wait. Sends started one after another are stored in that
// order. The wait hands the stored message to stored before anyone is
// notified of it, so the sender's answer (its ack) can go out ahead of the
// message's own event, or returns the error.
func (s *Service) StartSend(ctx context.Context, uid, gid int64, in Outgoing) (wait func(stored func(m chat.Message, created bool)) error) {
	body, bodyErr := chat.NormalizeMessageBody(in.Body, len(in.Attachments))
	clientID, cidErr := chat.NormalizeClientID(in.ClientID)
	var replyErr *chat.Error
	if in.ReplyTo != nil && *in.ReplyTo <= 0 {
		replyErr = chat.Invalid(map[string]string{"reply_to_id": "must be a positive id"})
	}
	if err := chat.Merge(bodyErr, cidErr, replyErr, chat.ValidateAttachmentIDs(in.Attachments)); err != nil {
		return func(func(chat.Message, bool)) error { return err }
	}
	if s.Admission != nil {
		// Held here, before the message is queued: a send that is refused
		// took no seq, and the sends of one connection keep their order.
		if err := s.Admission.Admit(ctx); err != nil {
			return func(func(chat.Message, bool)) error { return fmt.Errorf("send: %w", err) }
		}
	}
	m := chat.NewMessage{
		GroupID: gid, SenderID: uid, Body: body, ClientID: clientID, At: s.now(),
		ReplyTo: in.ReplyTo, Attachments: in.Attachments,
	}
	queued := s.Store.QueueMessage(ctx, m)
	return func(stored func(chat.Message, bool)) error {
		msg, created, err := queued()
		err = s.orMember(ctx, uid, gid, err, func() (err error) {
			msg, created, err = s.Store.InsertMessage(ctx, m)
			return err
		})
		if err != nil {
			return orNotFound(err, "send", "group")
		}
		answer := msg
		s.Presenter().Message(&answer, uid)
		stored(answer, created)
		// A repeat was announced when it was first stored; announcing it
		// again would only make every client drop a duplicate.
		if created {
			s.notify(ctx, chat.Event{Type: chat.EventMessage, GroupID: gid, Message: &msg})
		}
		return nil
	}
}

// asMember runs op, a store call that checks in its own statement that uid
// is a member of gid and fails with chat.ErrNoMembership otherwise (the hot paths,
// send and history, read nothing before it); see orMember.
func (s *Service) asMember(ctx context.Context, uid, gid int64, op func() error) error {
	return s.orMember(ctx, uid, gid, op(), op)
}

// orMember looks at err, the outcome of such a store call: only when it is
// chat.ErrNoMembership is the group read, to tell the caller which error applies;
// a caller who has become a member meanwhile gets retry once.
func (s *Service) orMember(ctx context.Context, uid, gid int64, err error, retry func() error) error {
	if !errors.Is(err, chat.ErrNoMembership) {
		return err
	}
	if _, err := s.member(ctx, uid, gid); err != nil {
		return err
	}
	if err = retry(); errors.Is(err, chat.ErrNoMembership) {
		return chat.ErrNotMember // removed again meanwhile
	}
	return err
}

// EditMessage changes the body of the caller's own message.
func (s *Service) EditMessage(ctx context.Context, uid, mid int64, body string) (chat.Message, error) {
	body, bodyErr := chat.NormalizeBody(body)
	if bodyErr != nil {
		return chat.Message{}, bodyErr
	}
	m, _, err := s.visibleMessage(ctx, uid, mid)
	if err != nil {
		return chat.Message{}, err
	}
	if m.Sender.ID != uid {
		return chat.Message{}, forbidden("Only the sender may edit a message.")
	}
	if m.Deleted {
		return chat.Message{}, conflict("The message was deleted.")
	}
	edited, err := s.Store.EditMessage(ctx, mid, body, s.now())
	if err != nil {
		return chat.Message{}, orNotFound(err, "edit message", "message")
	}
	s.notify(ctx, chat.Event{Type: chat.EventMessageUpdated, GroupID: edited.GroupID, Message: &edited})
	s.Presenter().Message(&edited, uid)
	return edited, nil
}

// MessageEdits lists the earlier bodies of a message to a member of its
// group, oldest first.
func (s *Service) MessageEdits(ctx context.Context, uid, mid int64) ([]chat.Edit, error) {
	if _, _, err := s.visibleMessage(ctx, uid, mid); err != nil {
		return nil, err
	}
	edits, err := s.Store.MessageEdits(ctx, mid)
	if err != nil {
		return nil, fmt.Errorf("message edits: %w", err)
	}
	return edits, nil
}

// DeleteMessage blanks a message, keeping its seq (the sender, or the
// group's owner or an admin). Deleting a deleted message succeeds again
// without a second event, so retries are safe.
func (s *Service) DeleteMessage(ctx context.Context, uid, mid int64) error {
	m, a, err := s.visibleMessage(ctx, uid, mid)
	if err != nil {
		return err
	}
	if m.Sender.ID != uid && !a.role().CanManage() {
		return forbidden("Only the sender or the group's owner or an admin may delete a message.")
	}
	if m.Deleted {
		return nil
	}
	deleted, err := s.Store.DeleteMessage(ctx, mid, s.now())
	if err != nil {
		return orNotFound(err, "delete message", "message")
	}
	s.notify(ctx, chat.Event{Type: chat.EventMessageDeleted, GroupID: deleted.GroupID, Message: &deleted})
	return nil
}

// visibleMessage loads a message of a group the caller is a member of. A
// message in a group the caller cannot see is not_found, like a missing one.
func (s *Service) visibleMessage(ctx context.Context, uid, mid int64) (chat.Message, access, error) {
	m, err := s.Store.MessageByID(ctx, mid)
	if err != nil {
		return chat.Message{}, access{}, orNotFound(err, "load message", "message")
	}
	a, err := s.member(ctx, uid, m.GroupID)
	if err != nil {
		return chat.Message{}, access{}, err
	}
	return m, a, nil
}

// Typing tells the other members' connections that uid is typing in gid.
func (s *Service) Typing(ctx context.Context, uid, gid int64, conn string) error {
	if _, err := s.member(ctx, uid, gid); err != nil {
		return err
	}
	s.notify(ctx, chat.Event{Type: chat.EventTyping, GroupID: gid, UserID: uid, Conn: conn})
	return nil
}

// GroupIDs lists the groups whose events a user's connections receive.
func (s *Service) GroupIDs(ctx context.Context, uid int64) ([]int64, error) {
	ids, err := s.Store.GroupIDsOf(ctx, uid)
	if err != nil {
		return nil, fmt.Errorf("group ids: %w", err)
	}
	return ids, nil
}
