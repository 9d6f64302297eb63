/**
 * Graph editing: neighbourhoods, bypassAndRemove, keepOnly and keepOnlyBetween
 * (asynciojobs tests/test_bypass.py).
 */
import { describe, expect, it } from 'vitest';
import { type AbstractJob, InvalidOptionError, Job, Scheduler, Sequence } from '../src/index.js';

/** A job labelled `label` that resolves at once with its label. */
const job = (label: string) => new Job(() => label, { label });

/** A scheduler and its jobs, by number: `j(3)` is `job3`. */
interface Fixture {
  s: Scheduler;
  j: (i: number) => Job<string>;
}

/** `n` jobs job1..jobn in a Scheduler, not yet linked. */
function jobsIn(n: number): Fixture {
  const s = new Scheduler();
  const byNumber = new Map<number, Job<string>>();
  for (let i = 1; i <= n; i++) byNumber.set(i, s.add(job(`job${i}`)));
  const j = (i: number) => {
    const found = byNumber.get(i);
    if (found === undefined) throw new Error(`no job${i} in this fixture`);
    return found;
  };
  return { s, j };
}

/** `diamonds(2)`: j1 → {j2,j3} → j4 → {j5,j6} → j7; `diamonds(3)` adds j7 → {j8,j9} → j10. */
function diamonds(count: 2 | 3): Fixture {
  const { s, j } = jobsIn(1 + 3 * count);
  for (let d = 0; d < count; d++) {
    const top = 1 + 3 * d;
    j(top + 1).requires(j(top));
    j(top + 2).requires(j(top));
    j(top + 3).requires(j(top + 1), j(top + 2));
  }
  return { s, j };
}

/** Labels of a set of jobs, sorted: readable diffs when a set differs. */
const labels = (jobs: Iterable<AbstractJob>) => [...jobs].map((x) => x.label ?? '?').sort();
/** The labels of the given job numbers, sorted like {@link labels}. */
const named = (...numbers: number[]) => numbers.map((i) => `job${i}`).sort();

describe('test_bypass1: chain j1 → j2 → j3 → j4 → j5', () => {
  it('computes the closures, then bypasses j3', () => {
    const { s, j } = jobsIn(5);
    for (let i = 2; i <= 5; i++) j(i).requires(j(i - 1));
    expect(labels(s.successorsDownstream(j(1)))).toEqual(named(2, 3, 4, 5));
    expect(labels(s.predecessorsUpstream(j(5)))).toEqual(named(1, 2, 3, 4));

    s.bypassAndRemove(j(3));
    expect(s.sanitize()).toBe(true);
    expect(s.jobs.has(j(3))).toBe(false);
    expect(s.size).toBe(4);
    expect(j(4).required.has(j(2))).toBe(true);
    expect(j(4).required.has(j(3))).toBe(false);
    expect(labels(s.successorsDownstream(j(1)))).toEqual(named(2, 4, 5));
    expect(labels(s.predecessorsUpstream(j(5)))).toEqual(named(1, 2, 4));
    expect(s.topologicalOrder().map((x) => x.label)).toEqual(['job1', 'job2', 'job4', 'job5']);
  });
});

describe('test_bypass2: j1 → {j2, j3} → j4 → j5', () => {
  it('computes the closures, then bypasses j4', () => {
    const { s, j } = jobsIn(5);
    j(2).requires(j(1));
    j(3).requires(j(1));
    j(4).requires(j(2), j(3));
    j(5).requires(j(4));
    expect(labels(s.successorsDownstream(j(1)))).toEqual(named(2, 3, 4, 5));
    expect(labels(s.successorsDownstream(j(2)))).toEqual(named(4, 5));
    expect(labels(s.successorsDownstream(j(3)))).toEqual(named(4, 5));
    expect(labels(s.predecessorsUpstream(j(4)))).toEqual(named(1, 2, 3));

    s.bypassAndRemove(j(4));
    expect(s.sanitize()).toBe(true);
    expect(s.jobs.has(j(4))).toBe(false);
    expect(labels(j(5).required)).toEqual(named(2, 3));
    expect(labels(s.successorsDownstream(j(1)))).toEqual(named(2, 3, 5));
    expect(labels(s.predecessorsUpstream(j(5)))).toEqual(named(1, 2, 3));
  });
});

describe('test_bypass3: diamonds(2)', () => {
  it('computes closures, then bypasses j4, j1 and j7 in turn', () => {
    const { s, j } = diamonds(2);
    const down = (i: number) => labels(s.successorsDownstream(j(i)));
    const up = (i: number) => labels(s.predecessorsUpstream(j(i)));
    expect(down(1)).toEqual(named(2, 3, 4, 5, 6, 7));
    expect(down(4)).toEqual(named(5, 6, 7));
    expect(down(7)).toEqual([]);
    expect(up(1)).toEqual([]);
    expect(up(4)).toEqual(named(1, 2, 3));
    expect(up(7)).toEqual(named(1, 2, 3, 4, 5, 6));

    // direct neighbours, and several starts at once
    expect(labels(s.predecessors(j(4)))).toEqual(named(2, 3));
    expect(labels(s.successors(j(4)))).toEqual(named(5, 6));
    expect(labels(s.successors(j(2), j(5)))).toEqual(named(4, 7));
    expect(labels(s.predecessors(j(2), j(7)))).toEqual(named(1, 5, 6));
    expect(labels(s.successorsDownstream(j(5), j(6)))).toEqual(named(7));
    expect(labels(s.predecessorsUpstream(j(2), j(3)))).toEqual(named(1));

    s.bypassAndRemove(j(4));
    expect(s.sanitize()).toBe(true);
    expect(labels(j(5).required)).toEqual(named(2, 3));
    expect(labels(j(6).required)).toEqual(named(2, 3));
    expect(down(1)).toEqual(named(2, 3, 5, 6, 7));
    expect(down(3)).toEqual(named(5, 6, 7));
    expect(down(6)).toEqual(named(7));
    expect(down(7)).toEqual([]);
    expect(up(1)).toEqual([]);
    expect(up(3)).toEqual(named(1));
    expect(up(6)).toEqual(named(1, 2, 3));
    expect(up(7)).toEqual(named(1, 2, 3, 5, 6));

    s.bypassAndRemove(j(1));
    expect(s.sanitize()).toBe(true);
    expect(j(2).required.size).toBe(0);
    expect(j(3).required.size).toBe(0);
    expect(down(3)).toEqual(named(5, 6, 7));
    expect(up(7)).toEqual(named(2, 3, 5, 6));
    expect(labels(s.entryJobs())).toEqual(named(2, 3));

    s.bypassAndRemove(j(7));
    expect(s.sanitize()).toBe(true);
    expect(s.successors(j(5)).size).toBe(0);
    expect(s.successors(j(6)).size).toBe(0);
    expect(labels(s.jobs)).toEqual(named(2, 3, 5, 6));
    expect(labels(s.exitJobs())).toEqual(named(5, 6));
  });

  it('refuses to bypass a job that is not a member', () => {
    const { s } = diamonds(2);
    const stranger = job('stranger');
    expect(() => s.bypassAndRemove(stranger)).toThrow(InvalidOptionError);
    expect(() => s.bypassAndRemove(stranger)).toThrow(/stranger/);
    expect(s.size).toBe(7);
  });
});

describe('test_bypass_seq: Sequence(j1..j5, scheduler=s) over jobs already in s', () => {
  it('bypasses j3 and relinks j2 → j4', () => {
    const { s, j } = jobsIn(5);
    new Sequence([j(1), j(2), j(3), j(4), j(5)], { scheduler: s });
    expect(s.size).toBe(5);

    s.bypassAndRemove(j(3));
    expect(s.sanitize()).toBe(true);
    expect(s.jobs.has(j(3))).toBe(false);
    expect(j(4).required.has(j(2))).toBe(true);
    const down = (i: number) => labels(s.successorsDownstream(j(i)));
    const up = (i: number) => labels(s.predecessorsUpstream(j(i)));
    expect(down(1)).toEqual(named(2, 4, 5));
    expect(down(2)).toEqual(named(4, 5));
    expect(down(4)).toEqual(named(5));
    expect(down(5)).toEqual([]);
    expect(up(1)).toEqual([]);
    expect(up(2)).toEqual(named(1));
    expect(up(4)).toEqual(named(1, 2));
    expect(up(5)).toEqual(named(1, 2, 4));
  });
});

describe('keepOnlyBetween', () => {
  it('test_bypass_keep1: starts=[j2,j3], ends=[j5,j6]', () => {
    const { s, j } = diamonds(2);
    s.keepOnlyBetween({ starts: [j(2), j(3)], ends: [j(5), j(6)] });
    expect(s.size).toBe(5);
    expect(labels(s.jobs)).toEqual(named(2, 3, 4, 5, 6));
    // the requirements on removed jobs are gone: j2 and j3 are entries now
    expect(labels(s.entryJobs())).toEqual(named(2, 3));
    expect(s.checkCycles()).toBe(true);
  });

  it('test_bypass_keep2: starts=[j4]', () => {
    const { s, j } = diamonds(2);
    s.keepOnlyBetween({ starts: [j(4)] });
    expect(labels(s.jobs)).toEqual(named(4, 5, 6, 7));
    expect(j(4).required.size).toBe(0);
  });

  it('test_bypass_keep3: starts=[j4], keepStarts false', () => {
    const { s, j } = diamonds(2);
    s.keepOnlyBetween({ starts: [j(4)], keepStarts: false });
    expect(labels(s.jobs)).toEqual(named(5, 6, 7));
    expect(j(5).required.size).toBe(0);
    expect(j(6).required.size).toBe(0);
  });

  /** diamonds(3), plus j11 requiring j2, and j7 also requiring j11. */
  function keep45(): Fixture {
    const { s, j } = diamonds(3);
    const j11 = s.add(job('job11'));
    j11.requires(j(2));
    j(7).requires(j11);
    return { s, j: (i: number) => (i === 11 ? j11 : j(i)) };
  }

  it('test_bypass_keep4: j11 is excluded', () => {
    const { s, j } = keep45();
    s.keepOnlyBetween({ starts: [j(2), j(3)], ends: [j(5), j(6)] });
    expect(s.size).toBe(5);
    expect(labels(s.jobs)).toEqual(named(2, 3, 4, 5, 6));
  });

  it('test_bypass_keep5: ends=[j8,j9], keepEnds false', () => {
    const { s, j } = keep45();
    s.keepOnlyBetween({ starts: [j(2), j(3)], ends: [j(8), j(9)], keepEnds: false });
    expect(s.size).toBe(7);
    expect(labels(s.jobs)).toEqual(named(2, 3, 4, 5, 6, 7, 11));
  });

  it('without starts nor ends keeps everything', () => {
    const { s } = diamonds(2);
    s.keepOnlyBetween();
    expect(s.size).toBe(7);
  });
});

describe('keepOnly', () => {
  it('test_bypass_keep10: keepOnly([j1..j4]) keeps the edges among them', () => {
    const { s, j } = diamonds(3);
    s.keepOnly([j(1), j(2), j(3), j(4)]);
    expect(s.size).toBe(4);
    expect(s.successors(j(1)).size).toBe(2);
    expect(s.predecessors(j(1)).size).toBe(0);
    expect(s.successors(j(2)).size).toBe(1);
    expect(s.predecessors(j(2)).size).toBe(1);
    expect(s.successors(j(4)).size).toBe(0);
    expect(s.predecessors(j(4)).size).toBe(2);
  });

  it('test_bypass_keep11: keepOnly([j1,j4,j7]) does not re-link', () => {
    const { s, j } = diamonds(3);
    const kept = [j(1), j(4), j(7)];
    s.keepOnly(kept);
    expect(s.size).toBe(3);
    for (const x of kept) {
      expect(s.successors(x).size).toBe(0);
      expect(s.predecessors(x).size).toBe(0);
      // the sanitize() inside keepOnly dropped the requirements on removed jobs
      expect(x.required.size).toBe(0);
    }
  });
});
