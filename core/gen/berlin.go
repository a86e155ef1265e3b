package gen

import "time"

// berlin returns t in German civil time. The EU summer-time rule (since
// 1996: from the last Sunday of March to the last Sunday of October, at
// 01:00 UTC) is computed here rather than read from the system's zone
// database, so the output does not depend on the machine.
func berlin(t time.Time) time.Time {
	t = t.UTC()
	y := t.Year()
	if !t.Before(lastSunday(y, time.March)) && t.Before(lastSunday(y, time.October)) {
		return t.In(cest)
	}
	return t.In(cet)
}

var (
	cet  = time.FixedZone("CET", 3600)
	cest = time.FixedZone("CEST", 7200)
)

// lastSunday returns 01:00 UTC on the last Sunday of month m of year y.
func lastSunday(y int, m time.Month) time.Time {
	d := time.Date(y, m+1, 0, 1, 0, 0, 0, time.UTC) // the month's last day
	return d.AddDate(0, 0, -int(d.Weekday()))
}
