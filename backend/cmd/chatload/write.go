package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// write: G groups × K members, every connection sending as fast as its acks
// allow.
func (r *runner) write(ctx context.Context, rep *report) error {
	cfg := r.cfg
	n := cfg.Groups * cfg.Members
	accts, err := r.accounts(ctx, rep, cfg.accounts())
	if err != nil {
		return err
	}
	member := func(i int) account { return accts[i%len(accts)] }
	groups := make([]groupInfo, cfg.Groups)
	setupCtx, cancel := context.WithTimeout(ctx, cfg.Setup)
	defer cancel()
	// Groups are set up one per worker; joins inside one are sequential.
	err = forEach(setupCtx, cfg.Groups, cfg.SetupConc, func(ctx context.Context, gi int) error {
		g, err := r.api.createGroup(ctx, member(gi*cfg.Members).Token, "write "+r.runID+" "+strconv.Itoa(gi))
		if err != nil {
			return fmt.Errorf("create group %d: %w", gi, err)
		}
		for j := 1; j < cfg.Members; j++ {
			if m := member(gi*cfg.Members + j); m.ID != member(gi*cfg.Members).ID {
				if err := r.api.join(ctx, m.Token, g.ID); err != nil {
					return fmt.Errorf("join group %d: %w", g.ID, err)
				}
			}
		}
		groups[gi] = g
		return nil
	})
	if err != nil {
		return err
	}
	var d deliveryStats
	p := r.newPool(d.onFrame)
	defer p.closeAll(256)
	err = r.connect(ctx, rep, p, accts, n, func(s *session) {
		g := groups[s.idx/cfg.Members]
		s.group = g.ID
		s.tracker = newSeqTracker(g.LastSeq)
		s.permits = make(chan struct{}, cfg.Inflight)
	})
	if err != nil {
		return err
	}
	if err := r.settle(ctx, rep, &p.connStats); err != nil {
		return err
	}
	all := sessionSenders(p.sessions)
	window, ackedInWindow := r.sendPhase(ctx, all, 0)
	deadline := time.Now().Add(cfg.Drain)
	r.waitUntil(ctx, deadline, inflightDrained(all))
	final := make(map[int64]int64, len(groups))
	var mu sync.Mutex
	err = forEach(ctx, len(groups), cfg.SetupConc, func(ctx context.Context, gi int) error {
		g, err := r.api.group(ctx, member(gi*cfg.Members).Token, groups[gi].ID)
		if err != nil {
			return fmt.Errorf("read group after the run: %w", err)
		}
		mu.Lock()
		final[g.ID] = g.LastSeq
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	r.waitUntil(ctx, deadline, func() bool {
		for _, s := range p.sessions {
			if s.received.Load() < final[s.group]-s.tracker.base {
				return false
			}
		}
		return true
	})
	p.closeAll(256)

	var sent, acked, stored int64
	for _, s := range p.sessions {
		sent += s.sent.Load()
		acked += s.acked.Load()
	}
	for _, g := range groups {
		stored += final[g.ID] - g.LastSeq
	}
	rep.add("groups", cfg.Groups)
	rep.add("members_per_group", cfg.Members)
	rep.add("inflight_per_conn", cfg.Inflight)
	rep.add("duration_s", round(window.Seconds(), 2))
	rep.add("sent", sent)
	rep.add("acked", acked)
	rep.add("stored", stored)
	rep.add("acked_msgs_per_s", perSecond(ackedInWindow, window))
	rep.addLatency("ack", &d.ackLat)
	rep.addLatency("delivery", &d.lat)
	checkDelivery(rep, groupTrackers(p.sessions, final))
	r.addConnErrors(rep, &p.connStats)
	return nil
}
