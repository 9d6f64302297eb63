/**
 * Graph checks: cycles (asynciojobs tests/test_cycles.py), sanitize (test_sanitize),
 * iterateJobs (test_iterate), topological order and CycleError.
 */
import { describe, expect, it } from 'vitest';
import {
  type AbstractJob,
  CoreErrorCode,
  CycleError,
  Job,
  JobGraphError,
  PureScheduler,
  Scheduler,
  Sequence,
} from '../src/index.js';

/** A job labelled `label` that resolves at once with its label. */
const job = (label: string, options: { required?: AbstractJob } = {}) =>
  new Job(() => label, { label, ...options });

const labelsOf = (jobs: Iterable<AbstractJob>) => [...jobs].map((x) => x.label);

describe('test_flat_cycles', () => {
  for (const Kind of [PureScheduler, Scheduler]) {
    it(`detects a cycle closed after the fact in a ${Kind.name}`, () => {
      const s = new Kind();
      const j1 = new Job(() => 1, { label: 'j1', scheduler: s });
      const j2 = new Job(() => 2, { label: 'j2', scheduler: s, required: j1 });
      const j3 = new Job(() => 3, { label: 'j3', scheduler: s, required: j2 });
      expect(s.size).toBe(3);
      expect(s.checkCycles()).toBe(true);
      j1.requires(j3);
      expect(s.checkCycles()).toBe(false);
      // and back
      j1.unrequires(j3);
      expect(s.checkCycles()).toBe(true);
    });
  }

  it('test_cycle (test_basics): a1 ← a2 ← a3 ← a1', () => {
    const s = new PureScheduler();
    const [a1, a2, a3] = ['a1', 'a2', 'a3'].map((label) => s.add(job(label))) as [Job, Job, Job];
    a1.requires(a2);
    a2.requires(a3);
    a3.requires(a1);
    expect(s.checkCycles()).toBe(false);
  });

  it('a requirement outside the scheduler fails the check', () => {
    const s = new PureScheduler();
    const outside = job('outside');
    s.add(job('inside', { required: outside }));
    expect(s.checkCycles()).toBe(false);
  });
});

describe('test_nested_cycles', () => {
  it('follows the asynciojobs steps', () => {
    const [js11, js12, js13] = ['js11', 'js12', 'js13'].map((l) => job(l)) as [Job, Job, Job];
    const s2 = new Scheduler({ jobs: [new Sequence([js11, js12, js13])], label: 's2' });
    const [j1, j3] = [job('j1'), job('j3')];
    const s1 = new Scheduler({ jobs: [new Sequence([j1, s2, j3])], label: 's1' });

    // 1.
    expect(s1.checkCycles()).toBe(true);
    // 2. a cycle inside s2
    js11.requires(js13);
    expect(s2.checkCycles()).toBe(false);
    expect(s1.checkCycles()).toBe(false);
    // 3. removing it (asynciojobs requires(..., remove=True))
    js11.unrequires(js13);
    expect(s1.checkCycles()).toBe(true);
    // 4. a cycle at top level
    j1.requires(j3);
    expect(s1.checkCycles()).toBe(false);
    // 5.
    j1.unrequires(j3);
    expect(s1.checkCycles()).toBe(true);
    // 6.
    const [jss111, jss112, jss113] = ['jss111', 'jss112', 'jss113'].map((l) => job(l)) as [Job, Job, Job];
    const s3 = new Scheduler({ jobs: [new Sequence([jss111, jss112, jss113])], label: 's3' });
    // 7.
    s2.remove(js12);
    // js13 still requires js12, which is no longer in s2
    expect(s1.checkCycles()).toBe(false);
    expect(s2.sanitize()).toBe(false);
    expect(js13.required.size).toBe(0);
    s2.add(s3);
    s3.requires(js11);
    js13.requires(s3);
    expect(s1.checkCycles()).toBe(true);
    expect(labelsOf(s2.topologicalOrder())).toEqual(['js11', 's3', 'js13']);
    // 8.
    js11.requires(js13);
    expect(s1.checkCycles()).toBe(false);
    expect(() => s2.topologicalOrder()).toThrow(CycleError);
  });

  it('a cycle two levels down is found from the top', () => {
    const inner = new Scheduler({ label: 'inner' });
    const a = inner.add(job('a'));
    const b = inner.add(job('b', { required: a }));
    const middle = new Scheduler({ jobs: [inner], label: 'middle' });
    const top = new PureScheduler({ jobs: [job('x'), middle] });
    expect(top.checkCycles()).toBe(true);
    a.requires(b);
    expect(top.checkCycles()).toBe(false);
  });
});

describe('test_sanitize', () => {
  it('simple: drops requirements that point outside', () => {
    const [j1, j2, j3, j4, j5] = ['j1', 'j2', 'j3', 'j4', 'j5'].map((l) => job(l)) as [
      Job,
      Job,
      Job,
      Job,
      Job,
    ];
    const s = new Scheduler({ jobs: [j1, j2, j3] });
    j2.requires(j4);
    j3.requires(j5);
    expect([j1, j2, j3].map((x) => x.required.size)).toEqual([0, 1, 1]);
    expect(s.sanitize()).toBe(false);
    expect([j1, j2, j3].map((x) => x.required.size)).toEqual([0, 0, 0]);
    // nothing left to change
    expect(s.sanitize()).toBe(true);
  });

  it('nested: recurses and keeps the requirements that are in scope', () => {
    const [j1, j2, j3, j4] = ['j1', 'j2', 'j3', 'j4'].map((l) => job(l)) as [Job, Job, Job, Job];
    const [j11, j12, j13, j14, j15] = ['j11', 'j12', 'j13', 'j14', 'j15'].map((l) => job(l)) as [
      Job,
      Job,
      Job,
      Job,
      Job,
    ];
    const s2 = new Scheduler({ jobs: [new Sequence([j11, j12, j13])], label: 's2' });
    j12.requires(j14);
    j13.requires(j15);
    const s1 = new Scheduler({ jobs: [new Sequence([j1, s2, j3])], label: 's1' });
    j1.requires(j4, j11);
    s2.requires(j13);
    j2.requires(j1);
    const counts = () => [j12, j13, j1, s2, j3].map((x) => x.required.size);
    expect(counts()).toEqual([2, 2, 2, 2, 1]);

    expect(s1.sanitize()).toBe(false);
    expect(counts()).toEqual([1, 1, 0, 1, 1]);
    expect([...j12.required]).toEqual([j11]);
    expect([...j13.required]).toEqual([j12]);
    expect([...s2.required]).toEqual([j1]);
    // j2 is not in s1: untouched
    expect([...j2.required]).toEqual([j1]);
    expect(s1.sanitize()).toBe(true);
  });

  it('returns true on a clean scheduler holding a clean nested one (asynciojobs said false)', () => {
    const inner = new Scheduler({ jobs: [new Sequence([job('i1'), job('i2')])] });
    const outer = new PureScheduler({ jobs: [new Sequence([job('o1'), inner, job('o2')])] });
    expect(outer.sanitize()).toBe(true);
  });

  it('returns false when only a nested scheduler had to change', () => {
    const inner = new Scheduler({ jobs: [job('i1', { required: job('stranger') })] });
    const outer = new PureScheduler({ jobs: [job('o1'), inner] });
    expect(outer.sanitize()).toBe(false);
    expect(outer.sanitize()).toBe(true);
  });

  it('makes a scheduler with a foreign requirement runnable', async () => {
    const s = new PureScheduler();
    const stranger = job('stranger');
    const inside = s.add(job('inside', { required: stranger }));
    await expect(s.run()).rejects.toMatchObject({
      code: CoreErrorCode.FOREIGN_REQUIREMENT,
      message: expect.stringMatching(/"inside".*"stranger"/),
    });
    expect(inside.isIdle()).toBe(true);
    s.sanitize();
    await expect(s.run()).resolves.toBe(true);
    expect(inside.result()).toBe('inside');
  });
});

describe('test_iterate', () => {
  /** asynciojobs diamond_from_jobs: top → {left, right} → bottom, inside a Scheduler. */
  function diamondFromJobs(
    label: string,
    top: AbstractJob,
    left: AbstractJob,
    right: AbstractJob,
    bottom: AbstractJob,
  ) {
    left.requires(top);
    right.requires(top);
    bottom.requires(left, right);
    return new Scheduler({ jobs: [top, left, right, bottom], label });
  }
  const four = (prefix: string) => [1, 2, 3, 4].map((i) => job(`${prefix}${i}`)) as [Job, Job, Job, Job];

  it('yields 10 leaf jobs, or 13 with the schedulers (self first)', () => {
    const sub2 = diamondFromJobs('sub2', ...four('a'));
    const sub3 = diamondFromJobs('sub3', ...four('b'));
    const top = diamondFromJobs('top', job('J1'), sub2, sub3, job('J4'));
    const leaves = [...top.iterateJobs()];
    expect(leaves).toHaveLength(10);
    expect(labelsOf(leaves)).toEqual(['J1', 'a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'b4', 'J4']);
    const all = [...top.iterateJobs({ scanSchedulers: true })];
    expect(all).toHaveLength(13);
    expect(all[0]).toBe(top);
    expect(labelsOf(all)).toEqual([
      'top',
      'J1',
      'sub2',
      'a1',
      'a2',
      'a3',
      'a4',
      'sub3',
      'b1',
      'b2',
      'b3',
      'b4',
      'J4',
    ]);
    expect(new Set(all).size).toBe(13);
  });

  it('works on a PureScheduler top', () => {
    const top = new PureScheduler({ jobs: [job('x'), diamondFromJobs('sub', ...four('c'))] });
    expect([...top.iterateJobs()]).toHaveLength(5);
    const all = [...top.iterateJobs({ scanSchedulers: true })];
    expect(all).toHaveLength(7);
    expect(all[0]).toBe(top);
  });
});

describe('topologicalOrder', () => {
  it('keeps insertion order for a graph built in order', () => {
    const s = new PureScheduler();
    const a = s.add(job('a'));
    const b = s.add(job('b', { required: a }));
    s.add(job('c'));
    const d = s.add(job('d', { required: b }));
    s.add(job('e', { required: a }));
    s.add(job('f', { required: d }));
    expect(labelsOf(s.topologicalOrder())).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('reorders a chain created in reverse', () => {
    const s = new PureScheduler();
    const c = s.add(job('c'));
    const b = s.add(job('b'));
    const a = s.add(job('a'));
    c.requires(b);
    b.requires(a);
    expect(labelsOf(s.topologicalOrder())).toEqual(['a', 'b', 'c']);
    // the listing follows the same order, numbered in it
    expect(s.list().split('\n')[0]).toMatch(/^1 .*<Job `a`>/);
  });

  it('places an earlier-inserted ready job before a later one', () => {
    const s = new PureScheduler();
    const late = job('late');
    const first = s.add(job('first', { required: late }));
    s.add(job('second'));
    s.add(late);
    expect(first.required.has(late)).toBe(true);
    // second is ready at once and inserted before late; first waits for late
    expect(labelsOf(s.topologicalOrder())).toEqual(['second', 'late', 'first']);
  });

  it('throws on a requirement outside the scheduler', () => {
    const s = new PureScheduler();
    s.add(job('inside', { required: job('outside') }));
    expect(() => s.topologicalOrder()).toThrow(JobGraphError);
    expect(() => s.topologicalOrder()).toThrow(/outside/);
  });
});

describe('CycleError', () => {
  /** a → b → c → a, plus an innocent job before and after. */
  function cyclic() {
    const s = new PureScheduler();
    s.add(job('innocent'));
    const a = s.add(job('a'));
    const b = s.add(job('b', { required: a }));
    const c = s.add(job('c', { required: b }));
    a.requires(c);
    s.add(job('bystander', { required: c }));
    return s;
  }

  it('names the jobs of the cycle, and only those', () => {
    const s = cyclic();
    let error: unknown;
    try {
      s.topologicalOrder();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CycleError);
    const cycle = error as CycleError;
    expect(cycle.code).toBe(CoreErrorCode.GRAPH_CYCLE);
    expect(cycle.name).toBe('CycleError');
    // first label repeated at the end; execution direction (b requires a: a → b)
    expect(cycle.cycle).toHaveLength(4);
    expect(cycle.cycle[0]).toBe(cycle.cycle[3]);
    expect([...cycle.cycle.slice(0, 3)].sort()).toEqual(['a', 'b', 'c']);
    const rotations = ['a → b → c → a', 'b → c → a → b', 'c → a → b → c'];
    expect(rotations).toContain(cycle.cycle.join(' → '));
    expect(cycle.message).toBe(`Dependency cycle: ${cycle.cycle.join(' → ')}`);
    expect(cycle.message).not.toMatch(/innocent|bystander/);
  });

  it('says a cycle on one line, long ones cut (a 20,000-job cycle made a message of 170,000 characters)', () => {
    const s = new Scheduler();
    const a = s.add(job('a\nwith "newline"'));
    const b = s.add(job('b', { required: a }));
    a.requires(b);
    expect(() => s.topologicalOrder()).toThrow(
      /^Dependency cycle: (a\\nwith \\"newline\\" → b|b → a\\nwith \\"newline\\") → /,
    );
    const ring = new Scheduler();
    const jobs = Array.from({ length: 2000 }, (_, i) => ring.add(job(`j${i}`)));
    for (const [i, each] of jobs.entries()) each.requires(jobs[(i + 1) % jobs.length] as Job);
    let error: CycleError | undefined;
    try {
      ring.topologicalOrder();
    } catch (caught) {
      error = caught as CycleError;
    }
    expect(error?.cycle).toHaveLength(2001);
    expect(error?.message).toMatch(/^Dependency cycle: (j\d+ → ){6}… \(1990 more\) → (j\d+ → ){4}j\d+$/);
  });

  it('a scheduler added inside its own child says so', () => {
    const parent = new Scheduler({ label: 'p' });
    const child = parent.add(new Scheduler({ label: 'c' }));
    expect(() => child.add(parent)).toThrow(
      'Scheduler "p" cannot be added inside scheduler "c", which is inside it',
    );
    expect(() => parent.add(parent)).toThrow('Scheduler "p" cannot be added inside itself');
  });

  it('is deterministic', () => {
    const messages = [cyclic(), cyclic()].map((s) => {
      try {
        s.topologicalOrder();
        return 'no error';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(messages[0]).toBe(messages[1]);
    expect(messages[0]).toBe('Dependency cycle: b → c → a → b');
  });

  it('makes run() reject before anything starts', async () => {
    const s = cyclic();
    let started = 0;
    s.add(new Job(() => started++, { label: 'counter' }));
    await expect(s.run()).rejects.toThrow(CycleError);
    await expect(s.run()).rejects.toThrow('Dependency cycle: b → c → a → b');
    expect(started).toBe(0);
    for (const x of s.jobs) expect(x.isIdle()).toBe(true);
  });

  it('makes list() and toDot() throw, but not listSafe()', () => {
    const s = cyclic();
    expect(() => s.list()).toThrow(CycleError);
    expect(() => s.toDot()).toThrow(CycleError);
    expect(() => s.listSafe()).not.toThrow();
  });

  it('a self-requirement is ignored, so it is no cycle', () => {
    const s = new PureScheduler();
    const a = s.add(job('a'));
    a.requires(a);
    expect(a.required.size).toBe(0);
    expect(s.checkCycles()).toBe(true);
  });
});

describe('topologicalOrder on random graphs', () => {
  /** The order by definition: repeatedly, the earliest inserted job whose requirements are all placed. */
  function referenceOrder(jobs: readonly AbstractJob[]): AbstractJob[] {
    const placed = new Set<AbstractJob>();
    const order: AbstractJob[] = [];
    while (order.length < jobs.length) {
      const next = jobs.find((job) => !placed.has(job) && [...job.required].every((r) => placed.has(r)));
      if (next === undefined) throw new Error('cycle in a generated DAG');
      placed.add(next);
      order.push(next);
    }
    return order;
  }

  /** A small deterministic generator (mulberry32), so that a failure can be replayed from its seed. */
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('is the earliest-inserted-first order, whatever the insertion order of a DAG', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const size = 1 + Math.floor(next() * 40);
      // a DAG by rank (a job requires only lower ranks), inserted in a shuffled order
      const byRank = Array.from({ length: size }, (_, rank) => new Job(() => rank, { label: `j${rank}` }));
      byRank.forEach((job, rank) => {
        for (let r = 0; r < rank; r++) if (next() < 0.15) job.requires(byRank[r] as AbstractJob);
      });
      const inserted = [...byRank].sort(() => next() - 0.5);
      const s = new PureScheduler({ jobs: inserted });
      expect(labelsOf(s.topologicalOrder()), `seed ${seed}`).toEqual(labelsOf(referenceOrder(inserted)));
    }
  });
});
