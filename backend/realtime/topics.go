package realtime

import (
	"slices"
	"strconv"
	"strings"

	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
)

// Each instance subscribes only to the broker topics of what it serves:
// "g:<id>" for each group with local connections, "u:<id>" for each user
// with local connections (the registry joins and leaves them, see
// joinTopicsLocked). An event is published on every topic its audience
// needs (topicsOf), and each delivery serves only its topic's share of the
// audience (share), so a connection gets each event once however many of
// its topics carried it.

func groupTopic(gid int64) string { return "g:" + strconv.FormatInt(gid, 10) }
func userTopic(uid int64) string  { return "u:" + strconv.FormatInt(uid, 10) }

// parseTopic reads a topic back: its kind ('g' or 'u') and id.
func parseTopic(topic string) (byte, int64, bool) {
	kind, id, ok := strings.Cut(topic, ":")
	if !ok || (kind != "g" && kind != "u") {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return kind[0], n, true
}

// topicsOf lists the topics an event with audience a (of group) is
// published on: its groups' for what reaches connections by group, its
// users' for what names users (including the one who joins, whose
// connections are not in the group yet, and the one whose sessions end).
func topicsOf(group int64, a chat.Audience) []string {
	var topics []string
	if a.Close != 0 {
		return []string{userTopic(a.Close)}
	}
	if a.Group {
		topics = append(topics, groupTopic(group))
	}
	for _, g := range a.Groups {
		topics = append(topics, groupTopic(g))
	}
	for _, u := range a.Users {
		topics = append(topics, userTopic(u))
	}
	if a.Join != 0 && !slices.Contains(a.Users, a.Join) {
		topics = append(topics, userTopic(a.Join))
	}
	return topics
}

// share is the part of an event's audience that one delivery on topic
// serves on this instance, so that every connection gets the event once
// in all:
//   - on "u:<id>", only that user's connections, with the changes that
//     concern them (joining, leaving, closing; a dissolved group);
//   - on a group's topic, the audience without the users named in it (they
//     get it on their own topic) and, for an event of several groups,
//     without the connections of the groups listed before this one (they
//     get it on that group's topic): skip lists those groups.
//
// ok is false when the delivery serves no one here.
func share(topic string, group int64, a chat.Audience) (part chat.Audience, skip []int64, ok bool) {
	kind, id, ok := parseTopic(topic)
	if !ok {
		return chat.Audience{}, nil, false
	}
	if kind == 'u' {
		part = chat.Audience{ExceptUser: a.ExceptUser, ExceptConn: a.ExceptConn, Dissolve: a.Dissolve}
		switch {
		case a.Close == id:
			return chat.Audience{Close: id, Sessions: a.Sessions}, nil, true
		case a.Close != 0:
			return chat.Audience{}, nil, false
		}
		named := slices.Contains(a.Users, id)
		if a.Join == id {
			part.Join, named = id, true
		}
		if a.Leave == id {
			part.Leave = id
		}
		if !named {
			return chat.Audience{}, nil, false
		}
		part.Users = []int64{id}
		return part, nil, true
	}
	switch {
	case a.Group && id == group:
		part = chat.Audience{Group: true, ExceptUser: a.ExceptUser, ExceptConn: a.ExceptConn}
		if a.Join != 0 {
			// The one who joins hears of it on their own topic. No
			// audience both names an exception and a joiner (a table test
			// holds chat.Event.Audience to it).
			part.ExceptUser = a.Join
		}
		return part, nil, true
	case len(a.Groups) > 0:
		i := slices.Index(a.Groups, id)
		if i < 0 {
			return chat.Audience{}, nil, false
		}
		return chat.Audience{Groups: []int64{id}, ExceptUser: a.ExceptUser, ExceptConn: a.ExceptConn}, a.Groups[:i], true
	}
	return chat.Audience{}, nil, false
}

// messagesOf is the broker messages of one event: its payload on each of
// its topics.
func messagesOf(env *envelope, payload []byte) []broker.Message {
	topics := topicsOf(env.Group, env.Audience)
	msgs := make([]broker.Message, len(topics))
	for i, t := range topics {
		msgs[i] = broker.Message{Topic: t, Payload: payload}
	}
	return msgs
}
