package app

import (
	"context"
	"strconv"
	"time"

	"github.com/chatapp/chat/chat"
)

// A message as the API answers it differs from the stored one in what
// depends on who asks and when: reactions list at most chat.ReactorsShown
// reactors with the caller first (chat.ReactionsFor), and attachments carry
// download links signed for a while from now. Every message that leaves the
// use cases or the hub passes through Presenter.

// Presenter turns stored messages into answers.
type Presenter struct {
	// Links signs download URLs; nil leaves them unsigned (the bearer
	// token of a member is then needed).
	Links AttachmentLinks
	Clock func() time.Time // nil: time.Now
}

// Messages presents ms in place for viewer (0: an event that many
// receive, whose reactors stay in the order they reacted).
func (p Presenter) Messages(ms []chat.Message, viewer int64) {
	for i := range ms {
		p.Message(&ms[i], viewer)
	}
}

// Message presents m in place for viewer.
func (p Presenter) Message(m *chat.Message, viewer int64) {
	if len(m.Reactions) > 0 {
		m.Reactions = chat.ReactionsFor(m.Reactions, viewer)
	}
	if len(m.Attachments) > 0 {
		as := make([]chat.Attachment, len(m.Attachments))
		for i, a := range m.Attachments {
			as[i] = p.Attachment(a)
		}
		m.Attachments = as
	}
}

// Attachment returns a with its download links.
func (p Presenter) Attachment(a chat.Attachment) chat.Attachment {
	now := time.Now
	if p.Clock != nil {
		now = p.Clock
	}
	a.URL = p.link(a.ID, LinkContent, now())
	a.ThumbnailURL = nil
	if a.ThumbKey != "" {
		u := p.link(a.ID, LinkThumbnail, now())
		a.ThumbnailURL = &u
	}
	return a
}

// The two downloads of an attachment.
const (
	LinkContent   = "content"
	LinkThumbnail = "thumbnail"
)

func (p Presenter) link(id int64, kind string, now time.Time) string {
	if p.Links == nil {
		return AttachmentPath(id, kind)
	}
	return p.Links.Sign(AttachmentPath(id, kind), now)
}

// AttachmentPath is where an attachment's download is served.
func AttachmentPath(id int64, kind string) string {
	return "/api/v1/attachments/" + strconv.FormatInt(id, 10) + "/" + kind
}

// HubStore is the store as the realtime hub reads it: messages it replays
// or fills in are presented as events are (viewer 0).
type HubStore struct {
	Store interface {
		Messages(ctx context.Context, groupID int64, q chat.HistoryQuery) ([]chat.Message, bool, error)
		GroupIDsOfUsers(ctx context.Context, userIDs []int64) (map[int64][]int64, error)
	}
	Present Presenter
}

func (h HubStore) Messages(ctx context.Context, groupID int64, q chat.HistoryQuery) ([]chat.Message, bool, error) {
	ms, more, err := h.Store.Messages(ctx, groupID, q)
	h.Present.Messages(ms, 0)
	return ms, more, err
}

func (h HubStore) GroupIDsOfUsers(ctx context.Context, userIDs []int64) (map[int64][]int64, error) {
	return h.Store.GroupIDsOfUsers(ctx, userIDs)
}
