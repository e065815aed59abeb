package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/chatapp/chat/chat"
)

// CreateGroup inserts a group of kind "group" owned by g.OwnerID together
// with the owner's membership.
func (s *Store) CreateGroup(ctx context.Context, g *chat.Group) error {
	vis := g.Visibility
	if vis == "" {
		vis = chat.Public
	}
	owner := g.OwnerID
	at := s.stamp(g.CreatedAt)
	row := groupRow{
		Kind: string(chat.KindGroup), Name: g.Name, Description: g.Description, Visibility: string(vis),
		OwnerID: &owner, MemberCount: 1, LastActivityAt: at, CreatedAt: at,
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return tx.Create(&membershipRow{GroupID: row.ID, UserID: owner, Role: string(chat.RoleOwner), JoinedAt: at}).Error
	})
	if err != nil {
		return s.wrap("create group", err)
	}
	*g = row.group()
	return nil
}

// directKey names the pair of users of a direct group, smaller id first,
// with a separator so that (1, 123) and (11, 23) differ.
func directKey(a, b int64) string {
	if a > b {
		a, b = b, a
	}
	return fmt.Sprintf("%d:%d", a, b)
}

// DirectGroup returns the direct group of a and b, creating it if needed.
// The unique direct_key makes concurrent creations collapse into one: the
// loser's INSERT … ON CONFLICT DO NOTHING inserts nothing (on Postgres after
// waiting for the winner's commit) and it reads the winner's group.
func (s *Store) DirectGroup(ctx context.Context, a, b int64) (chat.Group, bool, error) {
	if a == b {
		return chat.Group{}, false, fmt.Errorf("direct group: %w", chat.Invalid(map[string]string{"user_id": "must be another user"}))
	}
	key := directKey(a, b)
	var (
		row     groupRow
		created bool
	)
	// Most calls find an existing group: answer them without a write.
	err := s.reader(ctx).Table("groups g").Select(groupCols).Take(&row, "g.direct_key = ?", key).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return chat.Group{}, false, s.wrap("direct group", err)
	}
	if err != nil {
		err = s.tx(ctx, func(tx *gorm.DB) error {
			at := ts(s.now())
			row = groupRow{
				Kind: string(chat.KindDirect), Visibility: string(chat.Private), DirectKey: &key,
				MemberCount: 2, LastActivityAt: at, CreatedAt: at,
			}
			res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "direct_key"}}, DoNothing: true}).Create(&row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				row = groupRow{}
				return tx.Table("groups g").Select(groupCols).Take(&row, "g.direct_key = ?", key).Error
			}
			created = true
			return tx.Create([]membershipRow{
				{GroupID: row.ID, UserID: a, Role: string(chat.RoleMember), JoinedAt: at},
				{GroupID: row.ID, UserID: b, Role: string(chat.RoleMember), JoinedAt: at},
			}).Error
		})
		if err != nil {
			return chat.Group{}, false, s.wrap("direct group", err)
		}
	}
	g := row.group()
	peers, err := s.peers(ctx, s.reader(ctx), []int64{g.ID}, a)
	if err != nil {
		return chat.Group{}, false, s.wrap("direct group", err)
	}
	if p, ok := peers[g.ID]; ok {
		g.Peer = &p
	}
	return g, created, nil
}

func (s *Store) GroupByID(ctx context.Context, id, viewerID int64) (chat.Group, error) {
	db := s.reader(ctx)
	var row groupRow
	if err := db.Table("groups g").Select(groupCols).Take(&row, "g.id = ?", id).Error; err != nil {
		return chat.Group{}, s.wrap("group by id", err)
	}
	g := row.group()
	if g.Kind == chat.KindDirect {
		peers, err := s.peers(ctx, db, []int64{id}, viewerID)
		if err != nil {
			return chat.Group{}, s.wrap("group by id", err)
		}
		if p, ok := peers[id]; ok {
			g.Peer = &p
		}
	}
	return g, nil
}

type peerRow struct {
	PeerGroupID int64
	User        userRow `gorm:"embedded"`
}

// peers returns, for each direct group among groupIDs, the member who is not
// viewerID (the smallest other id if viewerID is not a member).
func (s *Store) peers(_ context.Context, db *gorm.DB, groupIDs []int64, viewerID int64) (map[int64]chat.User, error) {
	out := make(map[int64]chat.User, len(groupIDs))
	if len(groupIDs) == 0 {
		return out, nil
	}
	var rows []peerRow
	err := db.Raw(`SELECT m.group_id AS peer_group_id, u.id, u.username, u.display_name, u.created_at
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.group_id IN ? AND m.user_id <> ?
ORDER BY m.group_id, m.user_id`, groupIDs, viewerID).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if _, seen := out[r.PeerGroupID]; !seen {
			out[r.PeerGroupID] = r.User.user()
		}
	}
	return out, nil
}

// UpdateGroup changes the fields of p that are set.
func (s *Store) UpdateGroup(ctx context.Context, id int64, p chat.GroupPatch) (chat.Group, error) {
	set := map[string]any{}
	if p.Name != nil {
		set["name"] = *p.Name
	}
	if p.Description != nil {
		set["description"] = *p.Description
	}
	if p.Visibility != nil {
		set["visibility"] = string(*p.Visibility)
	}
	if len(set) > 0 {
		res := s.writer(ctx).Model(&groupRow{}).Where("id = ?", id).Updates(set)
		if res.Error != nil {
			return chat.Group{}, s.wrap("update group", res.Error)
		}
		if res.RowsAffected == 0 {
			return chat.Group{}, fmt.Errorf("update group: %w", chat.ErrNotFound)
		}
	}
	var row groupRow
	if err := s.reader(ctx).Table("groups g").Select(groupCols).Take(&row, "g.id = ?", id).Error; err != nil {
		return chat.Group{}, s.wrap("update group", err)
	}
	return row.group(), nil
}

// DeleteGroup removes a group; its memberships and messages go with it
// (ON DELETE CASCADE).
func (s *Store) DeleteGroup(ctx context.Context, id int64) error {
	res := s.writer(ctx).Delete(&groupRow{}, "id = ?", id)
	if res.Error != nil {
		return s.wrap("delete group", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete group: %w", chat.ErrNotFound)
	}
	return nil
}

// SearchGroups lists groups of kind "group" that are public or have the
// viewer as a member, matching q in name or description ignoring case; name
// matches first (exact, prefix, earliest position), then shorter names, then
// id. The cursor is an offset.
func (s *Store) SearchGroups(ctx context.Context, viewerID int64, q string, limit int, cursor string) ([]chat.Group, string, error) {
	off, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("search groups: %w", err)
	}
	limit = chat.ClampSearchLimit(limit)
	q = strings.ToLower(q)
	pos := s.d.position("lower(g.name)", "@q")
	query := `SELECT ` + groupCols + ` FROM groups g
WHERE g.kind = 'group'
	AND (g.visibility = 'public' OR EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = g.id AND m.user_id = @viewer))
	AND (lower(g.name) LIKE @pat ESCAPE '\' OR lower(g.description) LIKE @pat ESCAPE '\')
ORDER BY
	CASE WHEN lower(g.name) = @q THEN 0 WHEN ` + pos + ` = 1 THEN 1 WHEN ` + pos + ` > 0 THEN 2 ELSE 3 END,
	CASE WHEN ` + pos + ` > 0 THEN ` + pos + ` ELSE 0 END,
	length(g.name), g.id
LIMIT @limit OFFSET @offset`
	var rows []groupRow
	err = s.reader(ctx).Raw(query, map[string]any{
		"q": q, "pat": containsPattern(q), "viewer": viewerID, "limit": limit + 1, "offset": off,
	}).Find(&rows).Error
	if err != nil {
		return nil, "", s.wrap("search groups", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(off + limit)
	}
	out := make([]chat.Group, len(rows))
	for i, r := range rows {
		out[i] = r.group()
	}
	return out, next, nil
}

type myGroupRow struct {
	Group       groupRow `gorm:"embedded"`
	Role        string
	LastReadSeq int64
	JoinedAt    time.Time
	Muted       bool
	// The last message and its sender (NULL when the group has none).
	MsgID             *int64
	MsgSenderID       *int64
	MsgBody           *string
	MsgClientID       *string
	MsgCreatedAt      *time.Time
	MsgEditedAt       *time.Time
	MsgDeletedAt      *time.Time
	MsgMentionIDs     *string
	MentionCount      int64
	SenderUsername    *string
	SenderDisplayName *string
	SenderCreatedAt   *time.Time
}

func (r myGroupRow) lastMessage() *chat.Message {
	if r.MsgID == nil {
		return nil
	}
	v := messageView{
		Msg: messageRow{
			ID: *r.MsgID, GroupID: r.Group.ID, Seq: r.Group.LastSeq, SenderID: *r.MsgSenderID, Body: *r.MsgBody,
			ClientID: r.MsgClientID, CreatedAt: *r.MsgCreatedAt, EditedAt: r.MsgEditedAt, DeletedAt: r.MsgDeletedAt,
			MentionIDs: deref(r.MsgMentionIDs),
		},
		SenderUsername: *r.SenderUsername, SenderDisplayName: *r.SenderDisplayName, SenderCreatedAt: *r.SenderCreatedAt,
	}
	m := v.message()
	return &m
}

// MyGroups lists the user's groups, most recent activity first (the last
// message's time, else the time the user joined).
func (s *Store) MyGroups(ctx context.Context, userID int64) ([]chat.MyGroup, error) {
	return s.myGroups(ctx, userID, 0)
}

// MyGroup is one group of MyGroups.
func (s *Store) MyGroup(ctx context.Context, userID, groupID int64) (chat.MyGroup, error) {
	gs, err := s.myGroups(ctx, userID, groupID)
	if err != nil {
		return chat.MyGroup{}, err
	}
	if len(gs) == 0 {
		return chat.MyGroup{}, fmt.Errorf("my group: %w", chat.ErrNotFound)
	}
	return gs[0], nil
}

// myGroups lists the user's groups, or only groupID when it is not 0. Two
// set-based queries: the memberships with their groups and last messages,
// then the peers of the direct ones.
func (s *Store) myGroups(ctx context.Context, userID, groupID int64) ([]chat.MyGroup, error) {
	db := s.reader(ctx)
	var rows []myGroupRow
	where, args := `WHERE m.user_id = ?`, []any{userID}
	if groupID != 0 {
		where, args = where+` AND m.group_id = ?`, append(args, groupID)
	}
	err := db.Raw(`SELECT `+groupCols+`, m.role, m.last_read_seq, m.joined_at, m.muted,
	msg.id AS msg_id, msg.sender_id AS msg_sender_id, msg.body AS msg_body, msg.client_id AS msg_client_id,
	msg.created_at AS msg_created_at, msg.edited_at AS msg_edited_at, msg.deleted_at AS msg_deleted_at,
	msg.mention_ids AS msg_mention_ids,
	(SELECT count(*) FROM message_mentions mm
		WHERE mm.user_id = m.user_id AND mm.group_id = m.group_id AND mm.seq > m.last_read_seq) AS mention_count,
	u.username AS sender_username, u.display_name AS sender_display_name, u.created_at AS sender_created_at
FROM memberships m
JOIN groups g ON g.id = m.group_id
LEFT JOIN messages msg ON msg.group_id = g.id AND msg.seq = g.last_seq
LEFT JOIN users u ON u.id = msg.sender_id
`+where, args...).Find(&rows).Error
	if err != nil {
		return nil, s.wrap("my groups", err)
	}
	var direct []int64
	for _, r := range rows {
		if r.Group.Kind == string(chat.KindDirect) {
			direct = append(direct, r.Group.ID)
		}
	}
	peers, err := s.peers(ctx, db, direct, userID)
	if err != nil {
		return nil, s.wrap("my groups", err)
	}

	type item struct {
		g        chat.MyGroup
		activity time.Time
	}
	items := make([]item, len(rows))
	for i, r := range rows {
		g := chat.MyGroup{
			Group: r.Group.group(), Role: chat.Role(r.Role), LastReadSeq: r.LastReadSeq,
			UnreadCount: max(0, r.Group.LastSeq-r.LastReadSeq), LastMessage: r.lastMessage(), Muted: r.Muted,
			MentionCount: r.MentionCount,
		}
		if p, ok := peers[r.Group.ID]; ok {
			g.Peer = &p
		}
		activity := r.JoinedAt
		if g.LastMessage != nil {
			activity = g.LastMessage.CreatedAt
		}
		items[i] = item{g: g, activity: activity}
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := b.activity.Compare(a.activity); c != 0 {
			return c
		}
		return cmp.Compare(b.g.ID, a.g.ID)
	})
	out := make([]chat.MyGroup, len(items))
	for i, it := range items {
		out[i] = it.g
	}
	return out, nil
}

func (s *Store) GroupIDsOf(ctx context.Context, userID int64) ([]int64, error) {
	ids := []int64{}
	err := s.reader(ctx).Model(&membershipRow{}).Where("user_id = ?", userID).Order("group_id").Pluck("group_id", &ids).Error
	if err != nil {
		return nil, s.wrap("group ids of user", err)
	}
	return ids, nil
}

func (s *Store) Membership(ctx context.Context, groupID, userID int64) (chat.Membership, error) {
	// Every send and history read checks this: database/sql directly, as
	// for Messages (GORM's reflection was most of its CPU in the profiles).
	var row membershipRow
	err := s.rsql.QueryRowContext(ctx,
		`SELECT group_id, user_id, role, last_read_seq, joined_at FROM memberships WHERE group_id = $1 AND user_id = $2`,
		groupID, userID).Scan(&row.GroupID, &row.UserID, &row.Role, &row.LastReadSeq, &row.JoinedAt)
	if err != nil {
		return chat.Membership{}, s.wrap("membership", err)
	}
	return row.membership(), nil
}

type memberRow struct {
	User userRow `gorm:"embedded"`
	Role string
}

// Members lists a group's members: owner, then admins, then by shown name
// (display name, else username), then id.
func (s *Store) Members(ctx context.Context, groupID int64) ([]chat.Member, error) {
	var rows []memberRow
	err := s.reader(ctx).Raw(`SELECT u.id, u.username, u.display_name, u.created_at, m.role
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.group_id = ?
ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END,
	lower(CASE WHEN u.display_name = '' THEN u.username ELSE u.display_name END), u.id`, groupID).Find(&rows).Error
	if err != nil {
		return nil, s.wrap("members", err)
	}
	out := make([]chat.Member, len(rows))
	for i, r := range rows {
		out[i] = chat.Member{User: r.User.user(), Role: chat.Role(r.Role)}
	}
	return out, nil
}

func (s *Store) MemberIDs(ctx context.Context, groupID int64) ([]int64, error) {
	ids := []int64{}
	err := s.reader(ctx).Model(&membershipRow{}).Where("group_id = ?", groupID).Order("user_id").Pluck("user_id", &ids).Error
	if err != nil {
		return nil, s.wrap("member ids", err)
	}
	return ids, nil
}

// AddMember adds a membership whose read marker starts at the group's
// last_seq (a new member has nothing unread) and counts it in the group.
func (s *Store) AddMember(ctx context.Context, groupID, userID int64, role chat.Role) (bool, error) {
	var added bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO memberships (group_id, user_id, role, last_read_seq, joined_at)
SELECT id, ?, ?, last_seq, ? FROM groups WHERE id = ?
ON CONFLICT (group_id, user_id) DO NOTHING`, userID, string(role), ts(s.now()), groupID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := tx.Model(&groupRow{}).Where("id = ?", groupID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return gorm.ErrRecordNotFound
			}
			return nil
		}
		added = true
		return tx.Model(&groupRow{}).Where("id = ?", groupID).Update("member_count", gorm.Expr("member_count + 1")).Error
	})
	if err != nil {
		return false, s.wrap("add member", err)
	}
	return added, nil
}

func (s *Store) SetRole(ctx context.Context, groupID, userID int64, role chat.Role) error {
	res := s.writer(ctx).Model(&membershipRow{}).Where("group_id = ? AND user_id = ?", groupID, userID).Update("role", string(role))
	if res.Error != nil {
		return s.wrap("set role", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set role: %w", chat.ErrNotFound)
	}
	return nil
}

// RemoveMember deletes a membership and uncounts it.
func (s *Store) RemoveMember(ctx context.Context, groupID, userID int64) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Delete(&membershipRow{}, "group_id = ? AND user_id = ?", groupID, userID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		return tx.Model(&groupRow{}).Where("id = ?", groupID).Update("member_count", gorm.Expr("member_count - 1")).Error
	})
	return s.wrap("remove member", err)
}

// MarkRead moves the read marker to min(seq, last_seq) if that is forward,
// in one statement (the WHERE makes concurrent calls only ever raise it),
// and returns the marker after the call.
func (s *Store) MarkRead(ctx context.Context, groupID, userID, seq int64) (int64, error) {
	var marker int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Exec(`UPDATE memberships
SET last_read_seq = CASE WHEN g.last_seq < ? THEN g.last_seq ELSE ? END
FROM groups g
WHERE g.id = memberships.group_id AND memberships.group_id = ? AND memberships.user_id = ?
	AND memberships.last_read_seq < ? AND memberships.last_read_seq < g.last_seq`,
			seq, seq, groupID, userID, seq).Error
		if err != nil {
			return err
		}
		var row membershipRow
		if err := tx.Select("last_read_seq").Take(&row, "group_id = ? AND user_id = ?", groupID, userID).Error; err != nil {
			return err
		}
		marker = row.LastReadSeq
		return nil
	})
	if err != nil {
		return 0, s.wrap("mark read", err)
	}
	return marker, nil
}

// SetMuted sets a membership's muted switch.
func (s *Store) SetMuted(ctx context.Context, groupID, userID int64, muted bool) error {
	res := s.writer(ctx).Model(&membershipRow{}).Where("group_id = ? AND user_id = ?", groupID, userID).Update("muted", muted)
	if res.Error != nil {
		return s.wrap("set muted", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set muted: %w", chat.ErrNotFound)
	}
	return nil
}

// ReadReceipts lists the read markers of the group's members who share
// read receipts, by user id.
func (s *Store) ReadReceipts(ctx context.Context, groupID int64) ([]chat.ReadReceipt, error) {
	out := []chat.ReadReceipt{}
	rs, err := s.rsql.QueryContext(ctx, `SELECT m.user_id, m.last_read_seq FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.group_id = $1 AND u.share_read_receipts ORDER BY m.user_id`, groupID)
	if err != nil {
		return nil, s.wrap("read receipts", err)
	}
	defer rs.Close()
	for rs.Next() {
		var r chat.ReadReceipt
		if err := rs.Scan(&r.UserID, &r.LastReadSeq); err != nil {
			return nil, s.wrap("read receipts", err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap("read receipts", err)
	}
	return out, nil
}

// GroupIDsOfUsers maps each of the users to the ids of the groups they
// are members of, ascending; users in no group are left out.
func (s *Store) GroupIDsOfUsers(ctx context.Context, userIDs []int64) (map[int64][]int64, error) {
	out := make(map[int64][]int64)
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []membershipRow
	err := s.reader(ctx).Model(&membershipRow{}).Select("user_id", "group_id").
		Where("user_id IN ?", userIDs).Order("user_id, group_id").Find(&rows).Error
	if err != nil {
		return nil, s.wrap("group ids of users", err)
	}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.GroupID)
	}
	return out, nil
}
