package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cronSpec is a parsed five-field cron expression, as Velero's scheduler
// (robfig/cron ParseStandard) reads it: minute hour day-of-month month
// day-of-week, or a descriptor.
type cronSpec struct {
	minute, hour, dom, month, dow uint64 // bit i set = value i matches
	domStar, dowStar              bool
	every                         time.Duration // @every; the fields are unused
}

type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	dowNames   = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	cronFields = []cronField{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: monthNames},
		{name: "day of week", min: 0, max: 6, names: dowNames},
	}
	cronDescriptors = map[string]string{
		"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
		"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
	}
)

// parseCron parses a cron expression; the error says which field is wrong.
func parseCron(expr string) (*cronSpec, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "@every ") {
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(expr, "@every ")))
		if err != nil || d < time.Minute {
			return nil, errors.New("@every needs a Go duration of at least 1m, such as @every 6h")
		}
		return &cronSpec{every: d}, nil
	}
	if d, ok := cronDescriptors[expr]; ok {
		expr = d
	}
	parts := strings.Fields(expr)
	if len(parts) != 5 {
		return nil, fmt.Errorf("%d fields; want 5 (minute hour day-of-month month day-of-week)", len(parts))
	}
	var bits [5]uint64
	for i, f := range cronFields {
		b, err := parseCronField(parts[i], f)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", f.name, parts[i], err)
		}
		bits[i] = b
	}
	return &cronSpec{
		minute: bits[0], hour: bits[1], dom: bits[2], month: bits[3], dow: bits[4],
		domStar: isStar(parts[2]), dowStar: isStar(parts[4]),
	}, nil
}

// isStar reports a field that does not restrict: robfig/cron treats * and ?
// as unrestricted, but not */n with n > 1.
func isStar(s string) bool { return s == "*" || s == "?" || s == "*/1" }

func parseCronField(s string, f cronField) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(s, ",") {
		rangePart, step := item, 1
		if i := strings.Index(item, "/"); i >= 0 {
			n, err := strconv.Atoi(item[i+1:])
			if err != nil || n < 1 {
				return 0, errors.New("step must be a positive number")
			}
			rangePart, step = item[:i], n
		}
		lo, hi := f.min, f.max
		switch {
		case rangePart == "*" || rangePart == "?":
		case strings.Contains(rangePart, "-"):
			a, b, _ := strings.Cut(rangePart, "-")
			var err error
			if lo, err = cronValue(a, f); err != nil {
				return 0, err
			}
			if hi, err = cronValue(b, f); err != nil {
				return 0, err
			}
			if lo > hi {
				return 0, fmt.Errorf("range %d-%d runs backwards", lo, hi)
			}
		default:
			v, err := cronValue(rangePart, f)
			if err != nil {
				return 0, err
			}
			lo = v
			if step == 1 {
				hi = v
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func cronValue(s string, f cronField) (int, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%d is outside %d-%d", v, f.min, f.max)
	}
	return v, nil
}

// dayMatches applies cron's day rule: when both day fields are restricted a
// day matches either; otherwise both must match.
func (c *cronSpec) dayMatches(t time.Time) bool {
	if c.month&(1<<uint(t.Month())) == 0 {
		return false
	}
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}

// cronWindowStart and cronWindowDays bound the simulation that finds the
// longest gap between runs: three calendar years, including a leap year, so
// that month lengths and weekday alignments all occur. Fixed dates keep
// validation free of the clock.
var cronWindowStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const cronWindowDays = 3 * 366

// maxGap returns the longest time between two consecutive runs, or 0 when
// the expression never runs.
func (c *cronSpec) maxGap() time.Duration {
	if c.every > 0 {
		return c.every
	}
	var minutes []int // minutes of the day that match
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			if c.hour&(1<<uint(h)) != 0 && c.minute&(1<<uint(m)) != 0 {
				minutes = append(minutes, h*60+m)
			}
		}
	}
	if len(minutes) == 0 {
		return 0
	}
	inDay := 0
	for i := 1; i < len(minutes); i++ {
		inDay = max(inDay, minutes[i]-minutes[i-1])
	}
	gap, firstDay, lastDay := 0, -1, -1
	for d := 0; d < cronWindowDays; d++ {
		if !c.dayMatches(cronWindowStart.AddDate(0, 0, d)) {
			continue
		}
		if lastDay >= 0 {
			gap = max(gap, (d-lastDay)*1440-minutes[len(minutes)-1]+minutes[0])
		} else {
			firstDay = d
		}
		lastDay = d
	}
	switch {
	case lastDay < 0:
		return 0
	case firstDay == lastDay:
		return cronWindowDays * 24 * time.Hour // runs once in three years
	}
	return time.Duration(max(gap, inDay)) * time.Minute
}

// CronMaxGap returns the longest time between two consecutive runs of a
// cron expression (Velero's dialect), or 0 when it never runs.
func CronMaxGap(expr string) (time.Duration, error) {
	c, err := parseCron(expr)
	if err != nil {
		return 0, err
	}
	return c.maxGap(), nil
}

// MaxGap returns the longest time between two consecutive runs of the
// schedule, computed by the same simulation validation uses; an error means
// the cron expression does not parse or never runs.
func (s BackupSchedule) MaxGap() (time.Duration, error) {
	gap, err := CronMaxGap(s.Cron)
	if err != nil {
		return 0, err
	}
	if gap == 0 {
		return 0, errors.New("the expression never runs")
	}
	return gap, nil
}

// CoversAll reports whether the schedule backs up every namespace: no
// included namespaces or "*", and nothing excluded.
func (s BackupSchedule) CoversAll() bool {
	if len(s.ExcludedNamespaces) > 0 {
		return false
	}
	return len(s.IncludedNamespaces) == 0 || slices.Contains(s.IncludedNamespaces, "*")
}
