package main

import (
	"strings"
	"testing"

	"github.com/chatapp/chat/broker"
)

// A REDIS_URL the library refuses is reported without its password.
func TestRedisURLErrorsDoNotShowThePassword(t *testing.T) {
	for _, c := range []struct{ name, url string }{
		{"unknown option", "redis://:secret-pw@n1:7000?addr=n2:7000&colour=blue"},
		{"bad database", "redis://:secret-pw@cache:6379/x"},
	} {
		_, err := broker.ParseRedisURL(c.url)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if msg := redactURLError(err, c.url); strings.Contains(msg, "secret-pw") {
			t.Errorf("%s: the message shows the password: %s", c.name, msg)
		}
	}
}
