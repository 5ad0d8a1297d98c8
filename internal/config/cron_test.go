package config

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const day = 24 * time.Hour

// The longest gap between two runs is the RPO a schedule gives and the
// bound its TTL must exceed; each row is a schedule an operator might write.
func TestCronMaxGap(t *testing.T) {
	cases := []struct {
		expr string
		want time.Duration
	}{
		{"0 */6 * * *", 6 * time.Hour},
		{"30 */6 * * *", 6 * time.Hour},
		{"15 * * * *", time.Hour},
		{"*/15 * * * *", 15 * time.Minute},
		{"0 3 * * *", day},
		{"0 3 * * ?", day},
		{"0 1,13 * * *", 12 * time.Hour},
		{"0 9-17 * * *", 16 * time.Hour}, // 17:00 to 09:00 the next day
		{"0 3 * * 1-5", 3 * day},         // Friday to Monday
		{"0 3 * * mon-fri", 3 * day},
		{"0 3 * * MON", 7 * day},
		{"0 0 1,15 * *", 17 * day},     // the 15th to the 1st after a 31-day month
		{"0 0 31 * *", 61 * day},       // 31 August to 31 October
		{"0 0 1 jan-mar *", 306 * day}, // 1 March to 1 January
		{"@hourly", time.Hour},
		{"@daily", day},
		{"@midnight", day},
		{"@weekly", 7 * day},
		{"@monthly", 31 * day},
		{"@yearly", 366 * day}, // 2028 is a leap year
		{"@annually", 366 * day},
		{"@every 6h", 6 * time.Hour},
		{"@every 36h", 36 * time.Hour},
		{"@every 1m", time.Minute},
		// The library's answers where the hand-written parser differed:
		{"0 0 29 2 *", (3*365 + 366) * day},                 // 2028 to 2032; the old scan said 3 x 366 days
		{"CRON_TZ=UTC 0 3 * * *", day},                      // Velero documents CRON_TZ=<zone>
		{"CRON_TZ=Europe/Berlin 0 3 * * *", 25 * time.Hour}, // the autumn clock change
		{"TZ=America/New_York 0 3 * * *", 25 * time.Hour},
		{"*-5 * * * *", time.Minute},       // "*" with a range end: ParseStandard reads "*"
		{"1,,2 * * * *", 59 * time.Minute}, // empty list items are dropped
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			got, err := CronMaxGap(c.expr)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

// Expressions Velero's parser refuses are refused here, before a Schedule
// reaches the cluster.
func TestCronRefused(t *testing.T) {
	for _, expr := range []string{
		"",
		"0 25 * * *",  // hour out of range
		"60 * * * *",  // minute out of range
		"0 0 0 * *",   // day of month starts at 1
		"0 0 * 13 *",  // month out of range
		"0 0 * * 7",   // day of week is 0-6
		"*/5 * * *",   // four fields
		"0 3 * * * *", // six fields (no seconds field)
		"5-3 * * * *", // backwards range
		"*/0 * * * *", // zero step
		"0 3 L * *",   // Quartz syntax
		"@reboot",
		"@every soon",
		" @daily",     // ParseStandard does not trim; the old parser did
		"@daily ",     // an unknown descriptor to ParseStandard
		"CRON_TZ=UTC", // ParseStandard panics on this; Velero recovers, so do we
		"CRON_TZ=Mars/Olympus 0 3 * * *",
		// this project's floor: ParseStandard takes any duration and
		// rounds it up to a second
		"@every 30s", "@every 0s", "@every -1h",
	} {
		t.Run(expr, func(t *testing.T) {
			_, err := CronMaxGap(expr)
			assert.Error(t, err)
		})
	}
}

// An expression that parses but matches no date is refused by validation;
// CronMaxGap reports it as 0.
func TestCronNeverRuns(t *testing.T) {
	for _, expr := range []string{"0 3 31 2 *", "0 3 30 2 *", "0 0 31 4,6,9,11 *"} {
		t.Run(expr, func(t *testing.T) {
			gap, err := CronMaxGap(expr)
			require.NoError(t, err)
			assert.Zero(t, gap)
			_, err = BackupSchedule{Cron: expr}.MaxGap()
			assert.Error(t, err)
		})
	}
}

func TestValidateBackupCron(t *testing.T) {
	all := []string{"*"}
	cases := []struct {
		name     string
		schedule BackupSchedule
		wantKey  string // the problem's key; "" for none
	}{
		{"six-hourly cluster state", BackupSchedule{Name: "cs", Cron: "0 */6 * * *", TTL: "720h", IncludedNamespaces: all}, ""},
		{"malformed hour", BackupSchedule{Name: "cs", Cron: "0 25 * * *", TTL: "720h", IncludedNamespaces: all}, "platform.backup.schedules[0].cron"},
		{"never runs", BackupSchedule{Name: "cs", Cron: "0 3 31 2 *", TTL: "720h", IncludedNamespaces: all}, "platform.backup.schedules[0].cron"},
		{"ttl not above the gap", BackupSchedule{Name: "cs", Cron: "@daily", TTL: "24h", IncludedNamespaces: all}, "platform.backup.schedules[0].ttl"},
		{"weekly misses the RPO", BackupSchedule{Name: "cs", Cron: "@weekly", TTL: "720h", IncludedNamespaces: all}, "platform.backup.schedules"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p problems
			validateBackup(&p, &Backup{Schedules: []BackupSchedule{c.schedule}})
			if c.wantKey == "" {
				assert.Empty(t, p)
				return
			}
			keys := []string{}
			for _, pr := range p {
				keys = append(keys, pr.Key)
			}
			assert.Contains(t, keys, Project+":"+c.wantKey)
		})
	}
}

// everyRunGap is the longest gap by asking Next for every run in [from, to),
// each from the run itself: what gapWithin must equal.
func everyRunGap(t *testing.T, sched cron.Schedule, from, to time.Time) time.Duration {
	var gap time.Duration
	for run := sched.Next(from.Add(-time.Second)); !run.IsZero() && run.Before(to); {
		next := sched.Next(run)
		require.False(t, next.IsZero())
		gap = max(gap, next.Sub(run))
		run = next
	}
	return gap
}

// The day skipping in gapWithin gives what a walk through every run gives,
// including across clock changes (Lord Howe moves by 30 minutes).
func TestGapWithinMatchesEveryRun(t *testing.T) {
	exprs := []string{
		"0 */6 * * *", "15 * * * *", "*/7 * * * *", "*/20 1-3 * * *", "30 2 * * *", "0 1,13 * * *",
		"45 23 * * *", "0 0 * * *", "0 2 * * 0", "0 3 * * 1-5", "0 0 1,15 * *", "0 0 29 2 *", "0 9-17/4 * * mon-fri",
	}
	windows := []struct {
		zone     string
		from, to time.Time
	}{
		{"UTC", time.Date(2028, 1, 20, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 10, 0, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC)},
		{"Asia/Kolkata", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 20, 0, 0, 0, 0, time.UTC)},
	}
	for _, w := range windows {
		loc, err := time.LoadLocation(w.zone)
		require.NoError(t, err)
		for _, expr := range exprs {
			spec := expr
			if w.zone != "UTC" {
				spec = "CRON_TZ=" + w.zone + " " + expr
			}
			t.Run(spec+" from "+w.from.Format(time.DateOnly), func(t *testing.T) {
				sched, err := parseCron(spec)
				require.NoError(t, err)
				y, m, d := w.from.Date()
				from := time.Date(y, m, d, 0, 0, 0, 0, loc)
				y, m, d = w.to.Date()
				to := time.Date(y, m, d, 0, 0, 0, 0, loc)
				assert.Equal(t, everyRunGap(t, sched, from, to), gapWithin(sched, loc, from, to))
			})
		}
	}
}
