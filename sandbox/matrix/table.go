package matrix

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints one line per result (method, scenario, faults, expected outcome, actual outcome, time) and a
// summary line. It reports whether every result was as expected.
func WriteTable(w io.Writer, results []Result) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tSCENARIO\tFAULTS\tEXPECTED\tACTUAL\tTIME\t")
	mismatches := 0
	var longest time.Duration
	for _, r := range results {
		mark := ""
		if !r.OK() {
			mark = "  <-- MISMATCH"
			mismatches++
		}
		longest = max(longest, r.Took)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario.Method, r.Scenario.Name, faultList(r.Case),
			r.Scenario.ExpectedText(), r.Actual(), r.Took.Round(10*time.Millisecond), mark)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n%d verifications: %d as expected, %d mismatched; the longest took %s.\n",
		len(results), len(results)-mismatches, mismatches, longest.Round(10*time.Millisecond))
	return mismatches == 0
}

func faultList(c Case) string {
	if len(c.Faults) == 0 {
		return "-"
	}
	parts := make([]string, len(c.Faults))
	for i, f := range c.Faults {
		parts[i] = strings.ToLower(string(f))
	}
	return strings.Join(parts, ",")
}
