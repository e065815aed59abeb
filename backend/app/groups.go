package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatapp/chat/chat"
)

// GroupInput is the input of POST /groups.
type GroupInput struct {
	Name        string
	Description string
	Visibility  chat.Visibility // "" means public
}

// access is what a caller may know of a group.
type access struct {
	group chat.Group
	m     *chat.Membership // nil: not a member
}

// role is the caller's role, "" for a non-member.
func (a access) role() chat.Role {
	if a.m == nil {
		return ""
	}
	return a.m.Role
}

// see loads a group as uid sees it. A group the caller may not see (private
// or direct, and not a member) is not_found, exactly like one that does not
// exist, so that ids of private groups cannot be probed.
func (s *Service) see(ctx context.Context, uid, gid int64) (access, error) {
	g, err := s.Store.GroupByID(ctx, gid, uid)
	if err != nil {
		return access{}, orNotFound(err, "load group", "group")
	}
	a := access{group: g}
	m, err := s.Store.Membership(ctx, gid, uid)
	switch {
	case err == nil:
		a.m = &m
	case errors.Is(err, chat.ErrNotFound):
		if g.Kind == chat.KindDirect || g.Visibility != chat.Public {
			return access{}, notFound("group")
		}
	default:
		return access{}, fmt.Errorf("load membership: %w", err)
	}
	return a, nil
}

// member is see plus "the caller must be a member": a public group's
// non-member gets not_member.
func (s *Service) member(ctx context.Context, uid, gid int64) (access, error) {
	a, err := s.see(ctx, uid, gid)
	if err != nil {
		return access{}, err
	}
	if a.m == nil {
		return access{}, chat.ErrNotMember
	}
	return a, nil
}

// manager is member plus "a named group, and the caller is its owner or an
// admin".
func (s *Service) manager(ctx context.Context, uid, gid int64) (access, error) {
	a, err := s.member(ctx, uid, gid)
	if err != nil {
		return access{}, err
	}
	if a.group.Kind == chat.KindDirect {
		return access{}, errDirect()
	}
	if !a.role().CanManage() {
		return access{}, forbidden("Only the owner or an admin of the group may do this.")
	}
	return a, nil
}

func errDirect() *chat.Error {
	return forbidden("Direct conversations cannot be joined, left, renamed or given members.")
}

// CreateGroup creates a named group with the caller as owner.
func (s *Service) CreateGroup(ctx context.Context, uid int64, in GroupInput) (chat.Group, error) {
	name, nameErr := chat.NormalizeGroupName(in.Name)
	desc, descErr := chat.NormalizeDescription(in.Description)
	vis := in.Visibility
	if vis == "" {
		vis = chat.Public
	}
	if err := chat.Merge(nameErr, descErr, chat.ValidateVisibility(vis)); err != nil {
		return chat.Group{}, err
	}
	g := chat.Group{Kind: chat.KindGroup, Name: &name, Description: desc, Visibility: vis, OwnerID: uid}
	if err := s.Store.CreateGroup(ctx, &g); err != nil {
		return chat.Group{}, fmt.Errorf("create group: %w", err)
	}
	// The owner's open connections must start receiving the new group's
	// events; member_joined is how realtime learns of a new membership.
	s.notifyJoined(ctx, g.ID, uid)
	return g, nil
}

// notifyJoined announces that uid is now a member of gid.
func (s *Service) notifyJoined(ctx context.Context, gid, uid int64) {
	u, err := s.Store.UserByID(ctx, uid)
	if err != nil {
		// The membership is committed; a client that misses the event sees
		// the group on its next list. Do not fail the use case for it.
		s.Log.WarnContext(ctx, "member_joined: load user", "group_id", gid, "user_id", uid, "err", err)
		u = chat.User{ID: uid}
	}
	s.notify(ctx, chat.Event{Type: chat.EventMemberJoined, GroupID: gid, User: &u})
}

// SearchGroups lists public groups and the caller's private ones matching q.
func (s *Service) SearchGroups(ctx context.Context, uid int64, p Page) ([]chat.Group, string, error) {
	q, limit, err := normalizePage(p)
	if err != nil {
		return nil, "", err
	}
	groups, next, err := s.Store.SearchGroups(ctx, uid, q, limit, p.Cursor)
	if err != nil {
		return nil, "", searchErr("search groups", err)
	}
	return groups, next, nil
}

// MyGroups lists the caller's groups, most recent activity first.
func (s *Service) MyGroups(ctx context.Context, uid int64) ([]chat.MyGroup, error) {
	groups, err := s.Store.MyGroups(ctx, uid)
	if err != nil {
		return nil, fmt.Errorf("my groups: %w", err)
	}
	return groups, nil
}

// SetMuted mutes or unmutes one of the caller's groups and returns it as
// the caller's list shows it.
func (s *Service) SetMuted(ctx context.Context, uid, gid int64, muted bool) (chat.MyGroup, error) {
	if _, err := s.member(ctx, uid, gid); err != nil {
		return chat.MyGroup{}, err
	}
	if err := s.Store.SetMuted(ctx, gid, uid, muted); err != nil {
		return chat.MyGroup{}, orNotFound(err, "set muted", "group")
	}
	g, err := s.Store.MyGroup(ctx, uid, gid)
	if err != nil {
		return chat.MyGroup{}, orNotFound(err, "set muted", "group")
	}
	return g, nil
}

// ReadReceipts lists, to a member, how far the members who share read
// receipts have read the group.
func (s *Service) ReadReceipts(ctx context.Context, uid, gid int64) ([]chat.ReadReceipt, error) {
	if _, err := s.member(ctx, uid, gid); err != nil {
		return nil, err
	}
	rs, err := s.Store.ReadReceipts(ctx, gid)
	if err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	return rs, nil
}

// Direct returns the direct conversation with peerID, creating it if needed.
func (s *Service) Direct(ctx context.Context, uid, peerID int64) (chat.Group, bool, error) {
	if peerID == uid {
		return chat.Group{}, false, chat.Invalid(map[string]string{"user_id": "cannot be yourself"})
	}
	if peerID <= 0 {
		return chat.Group{}, false, chat.Invalid(map[string]string{"user_id": "is required"})
	}
	peer, err := s.Store.UserByID(ctx, peerID)
	if err != nil {
		return chat.Group{}, false, orNotFound(err, "direct", "user")
	}
	g, created, err := s.Store.DirectGroup(ctx, uid, peerID)
	if err != nil {
		return chat.Group{}, false, fmt.Errorf("direct: %w", err)
	}
	if g.Peer == nil || g.Peer.ID != peerID {
		g.Peer = &peer
	}
	if created {
		s.notifyJoined(ctx, g.ID, uid)
		s.notifyJoined(ctx, g.ID, peerID)
	}
	return g, created, nil
}

// Group returns a group to a member, or to anyone if it is public; a private
// group of which the caller is not a member is chat.ErrNotFound.
func (s *Service) Group(ctx context.Context, uid, gid int64) (chat.Group, error) {
	a, err := s.see(ctx, uid, gid)
	if err != nil {
		return chat.Group{}, err
	}
	return a.group, nil
}

// UpdateGroup changes a named group's name, description or visibility
// (owner or admin).
func (s *Service) UpdateGroup(ctx context.Context, uid, gid int64, p chat.GroupPatch) (chat.Group, error) {
	a, err := s.manager(ctx, uid, gid)
	if err != nil {
		return chat.Group{}, err
	}
	var patch chat.GroupPatch
	var problems []*chat.Error
	if p.Name != nil {
		n, e := chat.NormalizeGroupName(*p.Name)
		patch.Name, problems = &n, append(problems, e)
	}
	if p.Description != nil {
		d, e := chat.NormalizeDescription(*p.Description)
		patch.Description, problems = &d, append(problems, e)
	}
	if p.Visibility != nil {
		v := *p.Visibility
		patch.Visibility, problems = &v, append(problems, chat.ValidateVisibility(v))
	}
	if err := chat.Merge(problems...); err != nil {
		return chat.Group{}, err
	}
	if patch.Name == nil && patch.Description == nil && patch.Visibility == nil {
		return a.group, nil
	}
	g, err := s.Store.UpdateGroup(ctx, gid, patch)
	if err != nil {
		return chat.Group{}, orNotFound(err, "update group", "group")
	}
	s.notify(ctx, chat.Event{Type: chat.EventGroupUpdated, GroupID: gid, Group: &g})
	return g, nil
}

// DeleteGroup deletes a named group with its history (owner only).
func (s *Service) DeleteGroup(ctx context.Context, uid, gid int64) error {
	a, err := s.member(ctx, uid, gid)
	if err != nil {
		return err
	}
	if a.group.Kind == chat.KindDirect {
		return forbidden("Direct conversations cannot be deleted.")
	}
	if a.role() != chat.RoleOwner {
		return forbidden("Only the owner may delete the group.")
	}
	// Read the members before the delete: afterwards there is no one to
	// route the event to.
	members, err := s.Store.MemberIDs(ctx, gid)
	if err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	if err := s.Store.DeleteGroup(ctx, gid); err != nil {
		return orNotFound(err, "delete group", "group")
	}
	s.notify(ctx, chat.Event{Type: chat.EventGroupDeleted, GroupID: gid, Members: members})
	return nil
}

// Join makes the caller a member of a public group; joining again changes
// nothing and answers the group.
func (s *Service) Join(ctx context.Context, uid, gid int64) (chat.Group, error) {
	a, err := s.see(ctx, uid, gid)
	if err != nil {
		return chat.Group{}, err
	}
	if a.group.Kind == chat.KindDirect {
		return chat.Group{}, errDirect()
	}
	if a.m != nil {
		return a.group, nil
	}
	// see let a non-member through only for a public group.
	added, err := s.Store.AddMember(ctx, gid, uid, chat.RoleMember)
	if err != nil {
		return chat.Group{}, orNotFound(err, "join", "group")
	}
	if added {
		s.notifyJoined(ctx, gid, uid)
	}
	g, err := s.Store.GroupByID(ctx, gid, uid)
	if err != nil {
		return chat.Group{}, orNotFound(err, "join", "group")
	}
	return g, nil
}

// Leave removes the caller from a named group. The owner cannot leave: a
// group must keep an owner, and ownership transfer is not in the API. This is
// a 409 conflict (the group's state forbids it; deleting the group is the way
// out), not a 403, because the owner has every permission in the group.
func (s *Service) Leave(ctx context.Context, uid, gid int64) error {
	a, err := s.member(ctx, uid, gid)
	if err != nil {
		return err
	}
	if a.group.Kind == chat.KindDirect {
		return errDirect()
	}
	if a.role() == chat.RoleOwner {
		return conflict("The owner cannot leave the group; delete it instead.")
	}
	return s.remove(ctx, gid, uid)
}

// remove deletes a membership and tells the remaining members and the
// removed user, whose connections must stop receiving the group at once.
func (s *Service) remove(ctx context.Context, gid, userID int64) error {
	if err := s.Store.RemoveMember(ctx, gid, userID); err != nil {
		if errors.Is(err, chat.ErrNotFound) {
			return notFound("member")
		}
		return fmt.Errorf("remove member: %w", err)
	}
	to, err := s.Store.MemberIDs(ctx, gid)
	if err != nil {
		s.Log.WarnContext(ctx, "member_left: load members", "group_id", gid, "err", err)
	}
	s.notify(ctx, chat.Event{Type: chat.EventMemberLeft, GroupID: gid, UserID: userID, Members: to})
	return nil
}
