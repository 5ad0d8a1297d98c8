package config

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // CRON_TZ zones resolve the same on every machine

	"github.com/robfig/cron/v3"
)

// parseCron parses a Velero schedule exactly as Velero's schedule controller
// does: robfig/cron's ParseStandard, five fields (minute hour day-of-month
// month day-of-week), a descriptor such as @daily or @every 6h, optionally
// prefixed with CRON_TZ=<zone>. ParseStandard panics on some inputs (a
// CRON_TZ= prefix with nothing after it); like Velero, that is an error.
func parseCron(expr string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("%v", r)
		}
	}()
	sched, err = cron.ParseStandard(expr)
	if err != nil {
		return nil, err
	}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok && every.Delay < minCronInterval {
		return nil, fmt.Errorf("@every %s runs more often than every %s", every.Delay, minCronInterval)
	}
	return sched, nil
}

// minCronInterval is this project's floor for @every. ParseStandard accepts
// any Go duration and rounds anything below a second up to one, so
// "@every 0s" and "@every -1h" would start a backup every second; a
// five-field expression cannot run more often than once a minute.
const minCronInterval = time.Minute

// The scan for the longest gap covers three calendar years from 1 January
// 2026, including the leap year 2028, so that every month length, 29
// February and each turn of the year occur. A fixed start keeps validation
// free of the clock: with time.Now a yearly schedule's gap would be 365 or
// 366 days depending on the year the plan ran. Next reads only the calendar
// fields of the time it is given (spec.go Next), so the answer is a property
// of the expression alone. It is exact for schedules of fixed dates or of
// weekdays; where cron's OR rule joins a day of month with a day of week
// in some months, the gap depends on how weekdays fall in a year and three
// years sample the 28-year cycle ("0 0 30 1,3 2": 280 days here, 283 over
// 28 years). The window is in the schedule's own zone, CRON_TZ's or else
// UTC: without CRON_TZ, Next works in the zone of the time it is given, so
// UTC times keep the answer independent of the machine's zone, and the
// config documents such schedules as UTC.
const cronWindowYears = 3

var cronWindowStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// maxGap returns the longest time between two consecutive runs of sched, or
// 0 when it never runs.
func maxGap(sched cron.Schedule) time.Duration {
	switch s := sched.(type) {
	case cron.ConstantDelaySchedule:
		return s.Delay
	case *cron.SpecSchedule:
		loc := s.Location
		if loc == time.Local {
			loc = time.UTC
		}
		y, m, d := cronWindowStart.Date()
		from := time.Date(y, m, d, 0, 0, 0, 0, loc)
		return gapWithin(sched, loc, from, from.AddDate(cronWindowYears, 0, 0))
	}
	return 0
}

// gapWithin follows sched.Next, the call Velero makes for a schedule's next
// backup, from each run that starts in [from, to) to the one after it
// (which may lie beyond: a 29 February schedule's gap is four years).
//
// Stepping run by run costs Next a loop per minute in between, about 0.2 s
// for an hourly schedule over three years, so whole days are skipped where
// that gives the same answer: the hour and minute fields do not depend on
// the date, so every matching day that is 24 hours long (no clock change)
// runs at the same offsets from its midnight. The first such day is walked
// run by run, which finds the gaps inside every such day, and its last
// run's offset kept; on a later one only the gap from that last run to the
// next is asked of Next. Days with a clock change are walked run by
// run. TestGapWithinMatchesEveryRun compares this with the run-by-run walk.
func gapWithin(sched cron.Schedule, loc *time.Location, from, to time.Time) time.Duration {
	// ParseStandard fixes the seconds field to 0, so runs fall on whole
	// minutes and none lies in the 59 s after a run: starting Next there
	// gives the same answer and saves Next stepping through those seconds.
	const skip = 59 * time.Second
	var (
		gap     time.Duration
		haveDay bool          // a 24-hour day has been walked
		dayLast time.Duration // its last run, from its midnight
	)
	run := sched.Next(from.Add(-time.Second))
	for !run.IsZero() && run.Before(to) {
		y, m, d := run.In(loc).Date()
		midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
		nextMidnight := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		regular := nextMidnight.Sub(midnight) == 24*time.Hour
		// last is not before run on such a day; the check only guarantees
		// progress should that ever not hold.
		if last := midnight.Add(dayLast); regular && haveDay && !last.Before(run) {
			next := sched.Next(last.Add(skip))
			if next.IsZero() {
				return gap // Next looks five years ahead; nothing there is no next run
			}
			gap = max(gap, next.Sub(last))
			run = next
			continue
		}
		for {
			next := sched.Next(run.Add(skip))
			if next.IsZero() {
				return gap
			}
			gap = max(gap, next.Sub(run))
			dayDone := !next.Before(nextMidnight)
			if dayDone && regular {
				haveDay, dayLast = true, run.Sub(midnight)
			}
			run = next
			if dayDone {
				break
			}
		}
	}
	return gap
}

// cronGaps memoises maxGap by expression: validation, the policy pack and
// the plan figures ask about the same few schedules many times, and a
// schedule that runs every minute still takes Next a few thousand calls.
var cronGaps sync.Map // string -> time.Duration

// CronMaxGap returns the longest time between two consecutive runs of a
// cron expression (Velero's dialect), or 0 when it never runs.
func CronMaxGap(expr string) (time.Duration, error) {
	if gap, ok := cronGaps.Load(expr); ok {
		return gap.(time.Duration), nil
	}
	sched, err := parseCron(expr)
	if err != nil {
		return 0, err
	}
	gap := maxGap(sched)
	cronGaps.Store(expr, gap)
	return gap, nil
}

// MaxGap returns the longest time between two consecutive runs of the
// schedule, computed by the same scan validation uses; an error means
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
