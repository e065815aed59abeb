package broker_test

import (
	"slices"
	"testing"

	"github.com/chatapp/chat/broker"
)

// REDIS_URL names one node, a Sentinel master or a Cluster.
func TestRedisURLNamesANodeASentinelMasterOrACluster(t *testing.T) {
	node, err := broker.ParseRedisURL("redis://:pw@cache:6379/2")
	if err != nil || node.Mode() != "node" || node.Node.Addr != "cache:6379" || node.Node.DB != 2 || node.Node.Password != "pw" {
		t.Fatalf("node: %+v, %v", node, err)
	}
	sen, err := broker.ParseRedisURL("redis://s1:26379/0?master_name=main&addr=s2:26379&addr=s3:26379")
	if err != nil || sen.Mode() != "sentinel" || sen.Sentinel.MasterName != "main" ||
		!slices.Equal(sen.Sentinel.SentinelAddrs, []string{"s1:26379", "s2:26379", "s3:26379"}) {
		t.Fatalf("sentinel: %+v, %v", sen, err)
	}
	cl, err := broker.ParseRedisURL("redis://n1:7000?addr=n2:7000&addr=n3:7000")
	if err != nil || cl.Mode() != "cluster" || !slices.Equal(cl.Cluster.Addrs, []string{"n1:7000", "n2:7000", "n3:7000"}) {
		t.Fatalf("cluster: %+v, %v", cl, err)
	}
	for _, bad := range []string{"redis://n1:7000?addr=n2:7000&colour=blue", "redis://cache:6379/x"} {
		if _, err := broker.ParseRedisURL(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
