package broker

import (
	"slices"
	"testing"
)

// clusterSlot is Redis Cluster's key slot (the specification's test
// vector, and two keys redis-cli's CLUSTER KEYSLOT answers for).
func TestClusterSlotIsRedisKeySlot(t *testing.T) {
	for key, want := range map[string]uint16{"123456789": 12739, "foo": 12182, "chat:events:0": 12387} {
		if got := clusterSlot(key); got != want {
			t.Errorf("clusterSlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// Each shard's tag hashes into its own n-th of the slot space, the tags
// are distinct, and the same prefix gives the same tags.
func TestShardTagsSpreadOverTheSlotSpace(t *testing.T) {
	const n = 16
	tags := shardTags("chat:events", n)
	if len(tags) != n {
		t.Fatalf("%d tags, want %d", len(tags), n)
	}
	for i, tag := range tags {
		if got := int(clusterSlot(tag)) * n / clusterSlots; got != i {
			t.Errorf("tag %d (%q, slot %d) is in the %d-th of the slot space", i, tag, clusterSlot(tag), got)
		}
	}
	if !slices.Equal(tags, shardTags("chat:events", n)) {
		t.Fatal("the tags differ between two calls")
	}
	if sorted := slices.Compact(slices.Sorted(slices.Values(tags))); len(sorted) != n {
		t.Fatalf("tags repeat: %q", tags)
	}
}
