package realtime

import (
	"strings"
	"testing"
)

// Replies and reactions reach every member's connections on both
// instances, in the message's group.
func TestRepliesAndReactionsAcrossInstances(t *testing.T) {
	eachStack(t, func(t *testing.T, cfg clusterConfig) {
		cl := startCluster(t, 2, cfg)
		a, b := cl.insts[0], cl.insts[1]
		ann := register(t, a.svc, "ann")
		bob := register(t, b.svc, "bob")
		gid := createGroup(t, a.svc, ann, "team")
		join(t, b.svc, bob, gid)
		annWS, bobWS := connect(t, a, ann), connect(t, b, bob)

		annWS.send(map[string]any{"type": "send", "group_id": gid, "body": "question?", "ref": "q"})
		q := annWS.until(t, "ack")
		if q.Message == nil {
			t.Fatalf("ack %s", q.raw)
		}
		bobWS.until(t, "message")

		bobWS.send(map[string]any{"type": "send", "group_id": gid, "body": "answer", "reply_to_id": q.Message.ID, "ref": "r"})
		ack := bobWS.until(t, "ack")
		if ack.Message == nil || ack.Message.ReplyTo == nil || ack.Message.ReplyTo.ID != q.Message.ID {
			t.Fatalf("reply ack %s", ack.raw)
		}
		ev := annWS.until(t, "message") // her own question first
		for ev.Message.Seq != ack.Message.Seq {
			ev = annWS.until(t, "message")
		}
		if r := ev.Message.ReplyTo; r == nil || r.ID != q.Message.ID || r.Body != "question?" || r.Sender.ID != ann.ID {
			t.Fatalf("reply event on the other instance: %s", ev.raw)
		}
		// A reply to a message elsewhere is refused on the socket too.
		other := createGroup(t, a.svc, ann, "other")
		annWS.send(map[string]any{"type": "send", "group_id": other, "body": "x", "ref": "o"})
		foreign := annWS.until(t, "ack")
		bobWS.send(map[string]any{"type": "send", "group_id": gid, "body": "x", "reply_to_id": foreign.Message.ID, "ref": "bad"})
		if e := bobWS.until(t, "error"); e.Ref != "bad" || e.Error == nil || e.Error.Details["reply_to_id"] == "" {
			t.Fatalf("bad reply answered %s", e.raw)
		}

		// bob reacts on instance b: both hear it, ann on instance a.
		if err := b.svc.React(t.Context(), bob.ID, q.Message.ID, "👍", true); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*client{annWS, bobWS} {
			r := c.until(t, "reaction")
			if r.GroupID != gid || r.MessageID != q.Message.ID || r.Seq != q.Message.Seq || r.Emoji != "👍" ||
				r.UserID != bob.ID || r.Added == nil || !*r.Added {
				t.Fatalf("%s: reaction event %s", c.name, r.raw)
			}
		}
		// Repeating changes nothing and says nothing; the removal is heard.
		if err := b.svc.React(t.Context(), bob.ID, q.Message.ID, "👍", true); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.React(t.Context(), bob.ID, q.Message.ID, "👍", false); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*client{annWS, bobWS} {
			r := c.until(t, "reaction")
			if r.Added == nil || *r.Added || r.Emoji != "👍" {
				t.Fatalf("%s: removal event %s (a repeat must not be announced)", c.name, r.raw)
			}
		}
		// A replay (resume) carries the reply preview too.
		late := connect(t, a, ann)
		late.send(map[string]any{"type": "resume", "cursors": map[string]int64{itoa(gid): 0}})
		var got []frame
		for {
			f := late.next(t)
			if f.Type == "resumed" {
				break
			}
			if f.Type == "message" {
				got = append(got, f)
			}
		}
		if len(got) != 2 || got[1].Message.ReplyTo == nil || got[1].Message.ReplyTo.ID != q.Message.ID {
			t.Fatalf("replay = %+v", got)
		}
	})
}

// A message with files, sent on one instance's socket, reaches the other
// instance's members with its attachments, live and in a replay.
func TestAttachmentsAcrossInstances(t *testing.T) {
	eachStack(t, func(t *testing.T, cfg clusterConfig) {
		cl := startCluster(t, 2, cfg)
		a, b := cl.insts[0], cl.insts[1]
		ann := register(t, a.svc, "ann")
		bob := register(t, b.svc, "bob")
		gid := createGroup(t, a.svc, ann, "files")
		join(t, b.svc, bob, gid)
		bobWS := connect(t, b, bob)
		annWS := connect(t, a, ann)

		up1, err := a.svc.Upload(t.Context(), ann.ID, gid, "notes.txt", strings.NewReader("plain notes"))
		if err != nil {
			t.Fatal(err)
		}
		up2, err := a.svc.Upload(t.Context(), ann.ID, gid, "more.txt", strings.NewReader("more notes"))
		if err != nil {
			t.Fatal(err)
		}
		annWS.send(map[string]any{"type": "send", "group_id": gid, "body": "", "attachment_ids": []int64{up1.ID, up2.ID}, "ref": "f"})
		ack := annWS.until(t, "ack")
		if ack.Message == nil || len(ack.Message.Attachments) != 2 {
			t.Fatalf("ack %s", ack.raw)
		}
		ev := bobWS.until(t, "message")
		as := ev.Message.Attachments
		if len(as) != 2 || as[0].ID != up1.ID || as[0].Filename != "notes.txt" || !strings.HasPrefix(as[0].ContentType, "text/plain") ||
			as[1].ID != up2.ID || as[0].URL == "" || as[0].SHA256 != up1.SHA256 {
			t.Fatalf("bob's event on the other instance: %s", ev.raw)
		}
		// The same upload twice is refused on the socket.
		annWS.send(map[string]any{"type": "send", "group_id": gid, "body": "again", "attachment_ids": []int64{up1.ID}, "ref": "again"})
		if e := annWS.until(t, "error"); e.Ref != "again" || e.Error == nil || e.Error.Details["attachment_ids"] == "" {
			t.Fatalf("reuse answered %s", e.raw)
		}
		late := connect(t, b, bob)
		late.send(map[string]any{"type": "resume", "cursors": map[string]int64{itoa(gid): 0}})
		f := late.until(t, "message")
		if len(f.Message.Attachments) != 2 {
			t.Fatalf("replayed %s", f.raw)
		}
	})
}
