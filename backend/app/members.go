package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatapp/chat/chat"
)

// Members lists a group's members to a member.
func (s *Service) Members(ctx context.Context, uid, gid int64) ([]chat.Member, error) {
	if _, err := s.member(ctx, uid, gid); err != nil {
		return nil, err
	}
	ms, err := s.Store.Members(ctx, gid)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return ms, nil
}

// AddMember adds a user to a named group (owner or admin). Adding someone who
// is already a member is a 409 conflict: the signature cannot tell the
// transport "already there" apart from "created", and a 201 for nothing
// created would be a lie.
func (s *Service) AddMember(ctx context.Context, uid, gid, userID int64) (chat.Member, error) {
	if _, err := s.manager(ctx, uid, gid); err != nil {
		return chat.Member{}, err
	}
	if userID <= 0 {
		return chat.Member{}, chat.Invalid(map[string]string{"user_id": "is required"})
	}
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return chat.Member{}, orNotFound(err, "add member", "user")
	}
	added, err := s.Store.AddMember(ctx, gid, userID, chat.RoleMember)
	if err != nil {
		return chat.Member{}, orNotFound(err, "add member", "group")
	}
	if !added {
		return chat.Member{}, conflict("The user is already a member of the group.")
	}
	s.notify(ctx, chat.Event{Type: chat.EventMemberJoined, GroupID: gid, User: &u})
	return chat.Member{User: u, Role: chat.RoleMember}, nil
}

// SetRole makes a member an admin or a plain member (owner only). The
// owner's own role cannot change: the group would be left without an owner.
func (s *Service) SetRole(ctx context.Context, uid, gid, userID int64, role chat.Role) (chat.Member, error) {
	a, err := s.member(ctx, uid, gid)
	if err != nil {
		return chat.Member{}, err
	}
	if a.group.Kind == chat.KindDirect {
		return chat.Member{}, errDirect()
	}
	if a.role() != chat.RoleOwner {
		return chat.Member{}, forbidden("Only the owner may change roles.")
	}
	if err := chat.ValidateRole(role); err != nil {
		return chat.Member{}, err
	}
	if userID == uid {
		return chat.Member{}, forbidden("The owner's role cannot be changed.")
	}
	if _, err := s.Store.Membership(ctx, gid, userID); err != nil {
		return chat.Member{}, orNotFound(err, "set role", "member")
	}
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return chat.Member{}, orNotFound(err, "set role", "member")
	}
	if err := s.Store.SetRole(ctx, gid, userID, role); err != nil {
		return chat.Member{}, orNotFound(err, "set role", "member")
	}
	return chat.Member{User: u, Role: role}, nil
}

// RemoveMember removes a member from a named group. The owner may remove
// anyone but themself; an admin may remove plain members. Removing oneself
// is leaving, with the same rule (the owner cannot).
func (s *Service) RemoveMember(ctx context.Context, uid, gid, userID int64) error {
	a, err := s.manager(ctx, uid, gid)
	if err != nil {
		return err
	}
	if userID == uid {
		if a.role() == chat.RoleOwner {
			return conflict("The owner cannot leave the group; delete it instead.")
		}
		return s.remove(ctx, gid, uid)
	}
	target, err := s.Store.Membership(ctx, gid, userID)
	if errors.Is(err, chat.ErrNotFound) {
		return notFound("member")
	}
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if a.role() != chat.RoleOwner && target.Role.CanManage() {
		return forbidden("An admin may remove only plain members.")
	}
	return s.remove(ctx, gid, userID)
}
