import { describe, expect, it } from 'vitest';
import { aggregateTables, formatCell, type BenchTable } from '../../bench/report.ts';

// Issue 23: a figure is the median of several runs, with its spread, so a reader knows which
// figures can be compared between commits.
const run = (eventsPerSecond: number, p99: string, calls = '10+10'): BenchTable[] => [
  { title: 'intake', rows: [{ database: 'postgres', 'events/s': eventsPerSecond, 'p99 ms': p99, calls }] },
];

describe('benchmark figures over several runs', () => {
  const [table] = aggregateTables([run(60_000, '30.0'), run(66_000, '95.0'), run(63_000, '41.0')]);
  const row = table!.rows[0]!;

  it('takes the median of each numeric cell, numbers printed as text included, with min, max and spread', () => {
    expect(row['events/s']).toMatchObject({ median: 63_000, min: 60_000, max: 66_000 });
    expect((row['events/s'] as { spread: number }).spread).toBeCloseTo(6_000 / 63_000);
    expect(row['p99 ms']).toMatchObject({ median: 41, min: 30, max: 95 });
  });

  it('marks a figure whose runs spread over 10% of its median as too noisy to compare', () => {
    expect(formatCell(row['events/s']!)).toBe('63,000 (60,000–66,000, spread 10%)');
    expect(formatCell(row['p99 ms']!)).toBe('41 (30–95, spread 159%) ~');
  });

  it('keeps text cells that agree, and shows every run where they differ', () => {
    expect(row.database).toBe('postgres');
    expect(row.calls).toBe('10+10');
    const [differing] = aggregateTables([run(1, '1', '10+10'), run(1, '1', '10+11')]);
    expect(differing!.rows[0]!.calls).toBe('10+10 | 10+11');
  });

  it('gives the even count’s median as the mean of the middle two', () => {
    const [even] = aggregateTables([run(10, '1'), run(20, '1'), run(40, '1'), run(30, '1')]);
    expect(even!.rows[0]!['events/s']).toMatchObject({ median: 25 });
  });
});
