package main

import (
	"slices"
	"strings"
	"testing"
)

// REDIS_URL names one node, a Sentinel master or a Cluster.
func TestRedisURLNamesANodeASentinelMasterOrACluster(t *testing.T) {
	node, err := parseRedisURL("redis://:pw@cache:6379/2")
	if err != nil || node.mode != "node" || node.node.Addr != "cache:6379" || node.node.DB != 2 || node.node.Password != "pw" {
		t.Fatalf("node: %+v, %v", node, err)
	}
	sen, err := parseRedisURL("redis://s1:26379/0?master_name=main&addr=s2:26379&addr=s3:26379")
	if err != nil || sen.mode != "sentinel" || sen.sentinel.MasterName != "main" ||
		!slices.Equal(sen.sentinel.SentinelAddrs, []string{"s1:26379", "s2:26379", "s3:26379"}) {
		t.Fatalf("sentinel: %+v, %v", sen, err)
	}
	cl, err := parseRedisURL("redis://n1:7000?addr=n2:7000&addr=n3:7000")
	if err != nil || cl.mode != "cluster" || !slices.Equal(cl.cluster.Addrs, []string{"n1:7000", "n2:7000", "n3:7000"}) {
		t.Fatalf("cluster: %+v, %v", cl, err)
	}
	for _, c := range []struct{ name, url string }{
		{"unknown option", "redis://:secret-pw@n1:7000?addr=n2:7000&colour=blue"},
		{"bad database", "redis://:secret-pw@cache:6379/x"},
	} {
		_, err := parseRedisURL(c.url)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if msg := redactURLError(err, c.url); strings.Contains(msg, "secret-pw") {
			t.Errorf("%s: the message shows the password: %s", c.name, msg)
		}
	}
}
