package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// PrintTable writes the report for people: each kycflow figure beside the bare engine's and the target.
func PrintTable(w io.Writer, r Report) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "kycflow benchmark on the %s\tcommit %s\t%s\n", r.Engine, r.Commit, r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(tw, "\t\t\n")
	fmt.Fprintf(tw, "measure\tbare engine\thand-written peer\tkycflow\tkycflow / peer\ttarget\n")
	b, p, k := r.Baseline, r.Peer, r.Kycflow
	fmt.Fprintf(tw, "flows/s (%d flows, %d concurrent)\t%.1f\t%.1f\t%.1f\t%.2f\t>= 0.95 peer, >= 0.80 bare (%.2f)\n",
		r.Options.Flows, r.Options.Concurrency, b.PerSecond, p.PerSecond, k.PerSecond, r.PeerThroughputRatio, r.ThroughputRatio)
	fmt.Fprintf(tw, "flow end-to-end p50 / p99 ms\t%.0f / %.0f\t%.0f / %.0f\t%.0f / %.0f\t\t\n",
		b.EndToEnd.P50ms, b.EndToEnd.P99ms, p.EndToEnd.P50ms, p.EndToEnd.P99ms, k.EndToEnd.P50ms, k.EndToEnd.P99ms)
	fmt.Fprintf(tw, "CPU ms per flow, all processes\t%.0f\t%.0f\t%.0f\t%.2f\t<= 1.10\n", b.CPUMs(), p.CPUMs(), k.CPUMs(), r.PeerCPURatio)
	engine := func(f Flows) float64 { return f.CPUMsPerFlow["temporal"] + f.CPUMsPerFlow["postgres"] }
	fmt.Fprintf(tw, "  engine (%s)\t%.0f\t%.0f\t%.0f\t\t\n", r.Engine, engine(b), engine(p), engine(k))
	fmt.Fprintf(tw, "  worker (bare: in the load generator)\t%.0f\t%.0f\t%.0f\t\t\n", b.CPUMsPerFlow["bench"], p.CPUMsPerFlow["peer"], k.CPUMsPerFlow["worker"])
	fmt.Fprintf(tw, "  provider + webhooks + client\t\t(in the peer) + %.0f\t%.0f + %.0f + %.0f\t\t(sandbox + relay + client)\n",
		p.CPUMsPerFlow["bench"], k.CPUMsPerFlow["sandbox"], k.CPUMsPerFlow["relay"], k.CPUMsPerFlow["bench"])
	be, pe, ke := b.EnginePerFlow, p.EnginePerFlow, k.EnginePerFlow
	fmt.Fprintf(tw, "engine per flow: DB calls\t%.1f\t%.1f\t%.1f\t%.2f\t\n", Total(be.DBCalls), Total(pe.DBCalls), Total(ke.DBCalls), ratio(Total(ke.DBCalls), Total(pe.DBCalls)))
	fmt.Fprintf(tw, "engine per flow: visibility writes\t%.1f\t%.1f\t%.1f\t\t<= 4\n", be.VisibilityWrites(), pe.VisibilityWrites(), ke.VisibilityWrites())
	bs, ps, ks := b.Shape, p.Shape, k.Shape
	fmt.Fprintf(tw, "billable actions per flow\t%d\t%d\t%d\t%.2f\t<= 1.30\n", bs.Billable(), ps.Billable(), ks.Billable(), r.PeerBillableRatio)
	fmt.Fprintf(tw, "  start + signals + updates\t1 + %d + %d\t1 + %d + %d\t1 + %d + %d\t\t\n", bs.Signals, bs.Updates, ps.Signals, ps.Updates, ks.Signals, ks.Updates)
	fmt.Fprintf(tw, "  activities + local (tasks) + timers + upserts + side effects\t%d + %d + %d + %d + %d\t%d + %d + %d + %d + %d\t%d + %d + %d + %d + %d\t\t\n",
		bs.ActivityAttempts, bs.LocalActivityTasks, bs.Timers, bs.Upserts-bs.VersionUpserts, bs.SideEffects,
		ps.ActivityAttempts, ps.LocalActivityTasks, ps.Timers, ps.Upserts-ps.VersionUpserts, ps.SideEffects,
		ks.ActivityAttempts, ks.LocalActivityTasks, ks.Timers, ks.Upserts-ks.VersionUpserts, ks.SideEffects)
	fmt.Fprintf(tw, "  not billed: version upserts (TemporalChangeVersion)\t%d\t%d\t%d\t\t\n", bs.VersionUpserts, ps.VersionUpserts, ks.VersionUpserts)
	spread := func(f Flows) string {
		sp := f.Spread
		return fmt.Sprintf("%d-%d, %d-%d", sp.BillableMin, sp.BillableMax, sp.EventsMin, sp.EventsMax)
	}
	fmt.Fprintf(tw, "  median of %d flows read back; their actions, events\t%s\t%s\t%s\t\t\n", k.ShapeSamples, spread(b), spread(p), spread(k))
	fmt.Fprintf(tw, "history KB (events, workflow tasks)\t%.1f (%d, %d)\t%.1f (%d, %d)\t%.1f (%d, %d)\t%.2f\t<= 1.50\n",
		float64(bs.HistoryBytes)/1024, bs.Events, bs.WorkflowTasks, float64(ps.HistoryBytes)/1024, ps.Events, ps.WorkflowTasks,
		float64(ks.HistoryBytes)/1024, ks.Events, ks.WorkflowTasks, r.PeerHistoryRatio)
	fmt.Fprintf(tw, "\t\t\t\t\t\n")
	fmt.Fprintf(tw, "measure\tbare engine\t\tkycflow\tratio\ttarget\n")
	for _, u := range r.TimeToURL {
		fmt.Fprintf(tw, "time to URL p50 / p99 ms, %d caller(s)\t%.1f / %.1f\t\t%.1f / %.1f\t%.2f\t<= 1.20 (p50 vs bare + sandbox %.1f)\n",
			u.Concurrency, u.Bare.P50ms, u.Bare.P99ms, u.Kycflow.P50ms, u.Kycflow.P99ms, u.P50Ratio, r.SandboxInitiate.P50ms)
	}
	a := r.WebhookAck
	fmt.Fprintf(tw, "webhook ack p50 / p99 ms at %d/s\t%.1f / %.1f\t\t%.1f / %.1f\t%.2f\t<= 1.50 (p99)\n",
		a.Rate, a.Direct.P50ms, a.Direct.P99ms, a.Relay.P50ms, a.Relay.P99ms, a.P99Ratio)
	wt := r.Waiting
	switch {
	case wt.Count == 0:
		fmt.Fprintf(tw, "waiting verifications\t\t\tnot measured (-waiting 0)\t\t\n")
	default:
		fmt.Fprintf(tw, "worker RSS MB, %d waiting\t\t\t%.0f (idle %.0f)\t\t<= 200\n", wt.Count, wt.WorkerRSSMB, wt.WorkerIdleMB)
		fmt.Fprintf(tw, "engine RSS MB, database MB, %d waiting\t%.0f (idle %.0f), %.0f\t\t\t\t(engine)\n", wt.Count, wt.TemporalRSSMB, wt.TemporalIdleMB, wt.DBMB)
		if wt.WakeCached.Count == 0 {
			fmt.Fprintf(tw, "wake-up p50 / p99 ms: cached, evicted\t\t\tnot measured (under %d waiting)\t\t<= 3 (p99)\n", 2*workerCacheSize)
			break
		}
		fmt.Fprintf(tw, "wake-up p50 / p99 ms: cached, evicted (%d each)\t\t\t%.1f / %.1f, %.1f / %.1f\t%.2f\t<= 3 (p99)\n",
			wt.WakeCached.Count, wt.WakeCached.P50ms, wt.WakeCached.P99ms, wt.WakeEvicted.P50ms, wt.WakeEvicted.P99ms, wt.WakeRatio)
	}
	fmt.Fprintf(tw, "mismatched outcomes (peer, kycflow) / webhook errors\t\t%d\t%d / %d\t\t0 / 0\n", r.Peer.Mismatches, r.Kycflow.Mismatches, a.Errors)
	_ = tw.Flush()
	if len(r.DevServerConfig) > 0 {
		fmt.Fprintf(w, "dev server settings: %s\n", strings.Join(r.DevServerConfig, " "))
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round2(a / b)
}
