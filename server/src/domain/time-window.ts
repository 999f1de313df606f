import { WEEKDAYS, type TimeWindow } from '../../../shared/policy.ts';

interface ZonedClock {
  /** 0 for Sunday, as in WEEKDAYS. */
  weekday: number;
  minuteOfDay: number;
  /** YYYY-MM-DD */
  date: string;
}

// Building a formatter costs far more than using one; zones are few, so keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The weekday, minute of the day and calendar date of an instant, as a clock in that zone shows it. */
export function zonedClock(now: Date, timeZone: string): ZonedClock {
  const parts = formatterFor(timeZone).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = (WEEKDAYS as readonly string[]).indexOf(part('weekday').toLowerCase());
  return {
    weekday,
    minuteOfDay: Number(part('hour')) * 60 + Number(part('minute')),
    date: `${part('year')}-${part('month')}-${part('day')}`,
  };
}

/** "YYYY-MM-DD" of the instant in the zone: caps count per calendar day in the policy's time zone. */
export function dayKey(now: Date, timeZone: string): string {
  return zonedClock(now, timeZone).date;
}

/** The week `now` falls in on the zone's calendar, named by its Monday: "week of 2026-01-05". */
export function weekKey(now: Date, timeZone: string): string {
  const day = new Date(`${dayKey(now, timeZone)}T00:00:00Z`);
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return `week of ${new Date(day.getTime() - sinceMonday * 86_400_000).toISOString().slice(0, 10)}`;
}

function minutesOf(clockTime: string): number {
  const [hours = 0, minutes = 0] = clockTime.split(':').map(Number);
  return hours * 60 + minutes;
}

/**
 * Whether `now` falls inside the window, read on a clock in the window's zone (else the policy's).
 * The start is inside and the end is not. A window whose end is before its start crosses midnight:
 * "fri 22:00-02:00" runs from Friday night into Saturday, so its early part belongs to the day before.
 * Start equal to end covers the whole of each listed day.
 */
export function isInsideWindow(input: { window: TimeWindow; now: Date; policyTimeZone: string }): boolean {
  const { window } = input;
  const { weekday, minuteOfDay } = zonedClock(input.now, window.timezone ?? input.policyTimeZone);
  const days = new Set(window.days.map((day) => WEEKDAYS.indexOf(day)));
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start === end) return days.has(weekday);
  if (start < end) return days.has(weekday) && minuteOfDay >= start && minuteOfDay < end;
  const dayBefore = (weekday + 6) % 7;
  return (days.has(weekday) && minuteOfDay >= start) || (days.has(dayBefore) && minuteOfDay < end);
}
