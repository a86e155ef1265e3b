package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	sdktest.Run(t, &Newsletter{}, sdktest.Options{
		Config: json.RawMessage(`{"path": "testdata/subscribers.jsonl"}`),
		BadConfigs: []json.RawMessage{
			json.RawMessage(`{}`),
			json.RawMessage(`{"path": "testdata/missing.jsonl"}`),
		},
	})
}

func TestReadIsIncrementalAndRejectsBadLines(t *testing.T) {
	cfg := json.RawMessage(`{"path": "testdata/subscribers.jsonl"}`)
	c := &sdktest.Collector{}
	if err := (&Newsletter{}).Read(context.Background(), connector.ReadRequest{Config: cfg}, c); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range c.Records {
		var s subscriber
		if err := json.Unmarshal(r.Data, &s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	// Sorted by changed_at, ties by id; the bad line and the bogus status rejected.
	if got := strings.Join(ids, ","); got != "s1,s2,s3,s4" {
		t.Fatalf("ids = %s, want s1,s2,s3,s4", got)
	}
	if len(c.Rejects) != 2 || c.Rejects[0].Location != "testdata/subscribers.jsonl:4" || !strings.Contains(c.Rejects[1].Reason, `unknown status "bogus"`) {
		t.Fatalf("rejects = %+v", c.Rejects)
	}
	again := &sdktest.Collector{}
	if err := (&Newsletter{}).Read(context.Background(), connector.ReadRequest{Config: cfg, State: c.State()}, again); err != nil {
		t.Fatal(err)
	}
	if len(again.Records) != 0 {
		t.Fatalf("a read from the saved state emitted %d records again", len(again.Records))
	}
}
