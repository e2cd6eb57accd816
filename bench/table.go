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
	fmt.Fprintf(tw, "kycflow benchmark\tcommit %s\t%s\n", r.Commit, r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(tw, "\t\t\n")
	fmt.Fprintf(tw, "measure\tbare engine\tkycflow\tratio\ttarget\n")
	fmt.Fprintf(tw, "flows/s (%d flows, %d concurrent)\t%.1f\t%.1f\t%.2f\t>= 0.90\n",
		r.Options.Flows, r.Options.Concurrency, r.Baseline.PerSecond, r.Kycflow.PerSecond, r.ThroughputRatio)
	be2e, ke2e := r.Baseline.EndToEnd, r.Kycflow.EndToEnd
	fmt.Fprintf(tw, "flow end-to-end p50 / p99 / max ms\t%.0f / %.0f / %.0f\t%.0f / %.0f / %.0f\t\t\n",
		be2e.P50ms, be2e.P99ms, be2e.MaxMs, ke2e.P50ms, ke2e.P99ms, ke2e.MaxMs)
	b, k := r.Baseline.Shape, r.Kycflow.Shape
	be, ke := r.Baseline.EnginePerFlow, r.Kycflow.EnginePerFlow
	fmt.Fprintf(tw, "engine per flow: DB calls, visibility writes\t%.1f, %.1f\t%.1f, %.1f\t\t\n",
		Total(be.DBCalls), be.VisibilityWrites(), Total(ke.DBCalls), ke.VisibilityWrites())
	fmt.Fprintf(tw, "one history: events (signals, activities, WFTs)\t%d (%d, %d, %d)\t%d (%d, %d, %d)\t\t\n",
		b.Events, b.Signals, b.Activities, b.WorkflowTasks, k.Events, k.Signals, k.Activities, k.WorkflowTasks)
	fmt.Fprintf(tw, "one history: timers, upserts, KB\t%d, %d, %.1f\t%d, %d, %.1f\t\t\n",
		b.Timers, b.Upserts, float64(b.HistoryBytes)/1024, k.Timers, k.Upserts, float64(k.HistoryBytes)/1024)
	fmt.Fprintf(tw, "CPU ms per flow: dev server\t%.0f\t%.0f\t\t\n", r.Baseline.CPUMsPerFlow["temporal"], r.Kycflow.CPUMsPerFlow["temporal"])
	fmt.Fprintf(tw, "CPU ms per flow: worker (bare: in bench)\t%.0f\t%.0f\t\t\n", r.Baseline.CPUMsPerFlow["bench"], r.Kycflow.CPUMsPerFlow["worker"])
	fmt.Fprintf(tw, "CPU ms per flow: relay + sandbox + client\t\t%.0f + %.0f + %.0f\t\t\n",
		r.Kycflow.CPUMsPerFlow["relay"], r.Kycflow.CPUMsPerFlow["sandbox"], r.Kycflow.CPUMsPerFlow["bench"])
	fmt.Fprintf(tw, "CPU ms per flow: all processes (busy share of %d CPUs)\t%.0f (%.0f%%)\t%.0f (%.0f%%)\t%.2f\t(bare / kycflow)\n",
		r.CPUs, r.Baseline.CPUMs(), 100*r.Baseline.Busy(r.CPUs), r.Kycflow.CPUMs(), 100*r.Kycflow.Busy(r.CPUs), r.CPURatio)
	for _, u := range r.TimeToURL {
		fmt.Fprintf(tw, "time to URL p50 / p99 ms, %d caller(s)\t%.1f / %.1f\t%.1f / %.1f\t%.2f\t<= 1.20 (p50 vs bare + sandbox %.1f)\n",
			u.Concurrency, u.Bare.P50ms, u.Bare.P99ms, u.Kycflow.P50ms, u.Kycflow.P99ms, u.P50Ratio, r.SandboxInitiate.P50ms)
	}
	a := r.WebhookAck
	fmt.Fprintf(tw, "webhook ack p50 / p99 ms at %d/s\t%.1f / %.1f\t%.1f / %.1f\t%.2f\t<= 1.50 (p99)\n",
		a.Rate, a.Direct.P50ms, a.Direct.P99ms, a.Relay.P50ms, a.Relay.P99ms, a.P99Ratio)
	wt := r.Waiting
	fmt.Fprintf(tw, "worker RSS MB, %d waiting\t\t%.0f (idle %.0f)\t\t<= 200\n", wt.Count, wt.WorkerRSSMB, wt.WorkerIdleMB)
	fmt.Fprintf(tw, "dev server RSS MB, %d waiting\t%.0f (idle %.0f)\t\t\t(engine)\n", wt.Count, wt.TemporalRSSMB, wt.TemporalIdleMB)
	fmt.Fprintf(tw, "mismatched outcomes / webhook errors\t\t%d / %d\t\t0 / 0\n", r.Kycflow.Mismatches, a.Errors)
	_ = tw.Flush()
	fmt.Fprintf(w, "dev server settings: %s\n", strings.Join(r.DevServerConfig, " "))
}
