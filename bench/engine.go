package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// EngineWork is what the engine did, from its own counters: database calls by operation, and the background
// tasks it ran (transfer, timer and visibility tasks) by type.
type EngineWork struct {
	DBCalls map[string]float64 `json:"dbCalls"`
	Tasks   map[string]float64 `json:"tasks"`
}

var (
	operationLabel = regexp.MustCompile(`operation="([^"]+)"`)
	taskTypeLabel  = regexp.MustCompile(`task_type="([^"]+)"`)
)

// ReadEngineWork sums the dev server's persistence_requests by operation and its task_attempt_count by task type
// (the default namespace only: the system namespace's own workflows are not a flow's).
func ReadEngineWork(ctx context.Context, c *http.Client, metricsURL string) (EngineWork, error) {
	w := EngineWork{DBCalls: map[string]float64{}, Tasks: map[string]float64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return w, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return w, fmt.Errorf("read the dev server's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return w, fmt.Errorf("read the dev server's metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var into map[string]float64
		var label *regexp.Regexp
		switch {
		case strings.HasPrefix(line, "persistence_requests{"):
			into, label = w.DBCalls, operationLabel
		case strings.HasPrefix(line, "task_attempt_count{") && strings.Contains(line, `namespace="default"`):
			into, label = w.Tasks, taskTypeLabel
		default:
			continue
		}
		m := label.FindStringSubmatch(line)
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if m == nil || err != nil {
			continue
		}
		into[m[1]] += v
	}
	return w, sc.Err()
}

// Sub is the work done between an earlier reading and this one.
func (w EngineWork) Sub(earlier EngineWork) EngineWork {
	return EngineWork{DBCalls: combine(w.DBCalls, earlier.DBCalls, -1), Tasks: combine(w.Tasks, earlier.Tasks, -1)}
}

// Add sums two spans of work.
func (w EngineWork) Add(more EngineWork) EngineWork {
	return EngineWork{DBCalls: combine(w.DBCalls, more.DBCalls, 1), Tasks: combine(w.Tasks, more.Tasks, 1)}
}

// PerFlow divides the work by the flows that did it.
func (w EngineWork) PerFlow(flows int) EngineWork {
	per := func(m map[string]float64) map[string]float64 {
		out := make(map[string]float64, len(m))
		for k, v := range m {
			out[k] = round2(v / float64(flows))
		}
		return out
	}
	return EngineWork{DBCalls: per(w.DBCalls), Tasks: per(w.Tasks)}
}

// combine returns a + sign*b per key, keeping positive values only: a counter that did not grow is left out.
func combine(a, b map[string]float64, sign float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] += sign * v
	}
	for k, v := range out {
		if v <= 0 {
			delete(out, k)
		}
	}
	return out
}

// VisibilityWrites counts the visibility tasks run: each writes the run's row in the visibility store (start,
// search attribute upserts, close).
func (w EngineWork) VisibilityWrites() float64 { return sum(w.Tasks, "VisibilityTask") }

// Total sums one kind of work.
func Total(m map[string]float64) float64 { return sum(m, "") }

// sum adds up the counters whose name starts with prefix.
func sum(m map[string]float64, prefix string) float64 {
	t := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			t += v
		}
	}
	return round2(t)
}
