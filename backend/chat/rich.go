package chat

import (
	"time"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// Limits of rich messages (API.md, Messages and Attachments).
const (
	// ReplyPreviewMax is how many characters of the replied-to body a
	// reply carries.
	ReplyPreviewMax = 200
	// ReactionsMax is how many distinct emoji one message may carry.
	ReactionsMax = 20
	// ReactorsShown is how many reactors one reaction lists.
	ReactorsShown = 20
	// AttachmentsMax is how many files one message may carry.
	AttachmentsMax = 10
	// ThumbnailMax is the largest side of a thumbnail, in pixels.
	ThumbnailMax = 320
)

// ReplyPreview is the message a reply answers, as the reply shows it.
type ReplyPreview struct {
	ID      int64  `json:"id"`
	Seq     int64  `json:"seq"`
	Sender  User   `json:"sender"`
	Body    string `json:"body"`
	Deleted bool   `json:"deleted"`
}

// PreviewOf is the preview of m: its first ReplyPreviewMax characters.
func PreviewOf(m Message) *ReplyPreview {
	body := m.Body
	if utf8.RuneCountInString(body) > ReplyPreviewMax {
		n := 0
		for i := range body {
			if n == ReplyPreviewMax {
				body = body[:i]
				break
			}
			n++
		}
	}
	return &ReplyPreview{ID: m.ID, Seq: m.Seq, Sender: m.Sender, Body: body, Deleted: m.Deleted}
}

// Reaction is one emoji on a message: how many reacted with it and who.
type Reaction struct {
	Emoji   string  `json:"emoji"`
	Count   int64   `json:"count"`
	UserIDs []int64 `json:"user_ids"`
}

// ReactionsFor is how viewer sees reactions whose UserIDs list every
// reactor in the order they reacted: at most ReactorsShown of them, viewer
// first when it reacted. Viewer 0 (an event that many receive) keeps the
// order of reacting; clients move themselves first. rs is not changed.
func ReactionsFor(rs []Reaction, viewer int64) []Reaction {
	out := make([]Reaction, len(rs))
	for i, r := range rs {
		ids := make([]int64, 0, min(len(r.UserIDs), ReactorsShown))
		for _, u := range r.UserIDs {
			if u == viewer && viewer != 0 {
				ids = append([]int64{u}, ids...)
				break
			}
		}
		for _, u := range r.UserIDs {
			if len(ids) == ReactorsShown {
				break
			}
			if u != viewer || viewer == 0 {
				ids = append(ids, u)
			}
		}
		out[i] = Reaction{Emoji: r.Emoji, Count: r.Count, UserIDs: ids}
	}
	return out
}

// FilenameMax bounds an attachment's file name, in characters.
const FilenameMax = 255

var filenameField = textField{name: "filename", max: FilenameMax}

// NormalizeFilename keeps the last element of an uploaded file's name (a
// browser may send a whole path) under the text rules; no name is "file".
func NormalizeFilename(s string) (string, *Error) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' || s[i] == '\\' {
			s = s[i+1:]
			break
		}
	}
	name, err := filenameField.normalize(s)
	if err != nil {
		return "", err
	}
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	return name, nil
}

// Attachment is an uploaded file. The fields marked "-" are the store's:
// where the bytes are and whom they belong to. URL and ThumbnailURL are
// signed per answer (app), never stored.
type Attachment struct {
	ID           int64     `json:"id"`
	Filename     string    `json:"filename"`
	ContentType  string    `json:"content_type"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	Width        *int      `json:"width"`
	Height       *int      `json:"height"`
	URL          string    `json:"url"`
	ThumbnailURL *string   `json:"thumbnail_url"`
	CreatedAt    time.Time `json:"created_at"`

	GroupID    int64  `json:"-"`
	UploaderID int64  `json:"-"`
	MessageID  *int64 `json:"-"`
	Key        string `json:"-"` // the blob of the bytes
	ThumbKey   string `json:"-"` // the blob of the thumbnail, "" for none
}

// NormalizeEmoji checks that s is one emoji: a single grapheme cluster
// that starts with a code point of the Unicode emoji property (a keycap,
// whose base is a digit, '#' or '*', must carry U+20E3). It returns it in
// NFC, as every text is stored.
func NormalizeEmoji(s string) (string, *Error) {
	if s == "" || !utf8.ValidString(s) || len(s) > 64 {
		return s, field("emoji", "must be one emoji")
	}
	s = norm.NFC.String(s)
	return s, validateEmoji(s)
}

func validateEmoji(s string) *Error {
	cluster, rest, _, _ := uniseg.FirstGraphemeClusterInString(s, -1)
	if rest != "" {
		return field("emoji", "must be one emoji")
	}
	first, _ := utf8.DecodeRuneInString(cluster)
	switch {
	case first == '#' || first == '*' || first >= '0' && first <= '9':
		if !containsRune(cluster, 0x20E3) {
			return field("emoji", "must be one emoji")
		}
	case !isEmojiRune(first):
		return field("emoji", "must be one emoji")
	}
	for _, r := range cluster {
		if isControl(r) || isBidiControl(r) {
			return field("emoji", "must be one emoji")
		}
	}
	return nil
}

func containsRune(s string, want rune) bool {
	for _, r := range s {
		if r == want {
			return true
		}
	}
	return false
}

// emojiRanges are the code points with the Unicode Emoji property outside
// ASCII (emoji-data.txt, Emoji=Yes, merged into blocks; the few code points
// of these blocks without it are harmless as reactions).
var emojiRanges = [][2]rune{
	{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA},
	{0x231A, 0x231B}, {0x2328, 0x2328}, {0x23CF, 0x23CF}, {0x23E9, 0x23F3},
	{0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB}, {0x25B6, 0x25B6},
	{0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x27BF}, {0x2934, 0x2935},
	{0x2B05, 0x2B07}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55},
	{0x3030, 0x3030}, {0x303D, 0x303D}, {0x3297, 0x3297}, {0x3299, 0x3299},
	{0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F170, 0x1F251},
	{0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7F0},
	{0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
}

func isEmojiRune(r rune) bool {
	if r >= 0x1F1E6 && r <= 0x1F1FF { // regional indicators (flags)
		return true
	}
	for _, rg := range emojiRanges {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

// NormalizeMessageBody applies the text rules to the body of a message
// with attachments files: 0–4000 characters when it has files, else 1–4000.
func NormalizeMessageBody(s string, attachments int) (string, *Error) {
	if attachments == 0 {
		return NormalizeBody(s)
	}
	return optionalBodyField.normalize(s)
}

var optionalBodyField = textField{name: "body", max: BodyMax}

// ValidateAttachmentIDs checks the attachment ids of a send: at most
// AttachmentsMax, positive, each once.
func ValidateAttachmentIDs(ids []int64) *Error {
	if len(ids) > AttachmentsMax {
		return field("attachment_ids", "must list at most 10 attachments")
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if id <= 0 {
			return field("attachment_ids", "must be positive ids")
		}
		if seen[id] {
			return field("attachment_ids", "must not repeat an attachment")
		}
		seen[id] = true
	}
	return nil
}
