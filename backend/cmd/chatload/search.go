package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// searchWords is the vocabulary of the search scenario's messages: each
// body draws searchBodyWords of them, so that every word is in about one
// message of six, and the clients search for them in turn.
var searchWords = strings.Fields(`ocean river mountain lake bright dark quick slow meeting report
	budget plan release deploy coffee lunch dinner travel ticket server client database
	network design review merge branch commit test build docs team sprint goal issue bug
	feature user login search index cache queue event stream metric alert pager night day`)

const searchBodyWords = 8

// searchBody is the i-th seeded message: the same words every run.
func searchBody(i int) string {
	words := make([]string, searchBodyWords)
	for j := range words {
		words[j] = searchWords[(i*(j+7)+j*j*13+i/7)%len(searchWords)]
	}
	return strings.Join(words, " ")
}

// search: C REST clients searching the messages of their groups
// (GET /search/messages, docs/API.md) for the words of searchWords in turn,
// over cfg.Seed messages stored first in one group.
func (r *runner) search(ctx context.Context, rep *report) error {
	accts, _, err := r.seededGroup(ctx, rep, "search", searchBody)
	if err != nil {
		return err
	}
	limit := min(r.cfg.PageLimit, 100)
	urls := make([]string, len(searchWords))
	for i, w := range searchWords {
		urls[i] = r.api.base + "/search/messages?limit=" + strconv.Itoa(limit) + "&q=" + url.QueryEscape(w)
	}
	rep.add("page_limit", limit)
	return r.readLoop(ctx, rep, accts,
		func(n int) string { return urls[n%len(urls)] },
		func(b []byte, n int) bool { return validResults(b, searchWords[n%len(searchWords)]) })
}

// validResults checks a search answer: at least one result, each holding
// the word searched for.
func validResults(b []byte, word string) bool {
	var page struct {
		Items []struct {
			Body string `json:"body"`
		} `json:"items"`
	}
	if json.Unmarshal(b, &page) != nil || len(page.Items) == 0 {
		return false
	}
	for _, m := range page.Items {
		if !strings.Contains(" "+m.Body+" ", " "+word+" ") {
			return false
		}
	}
	return true
}
