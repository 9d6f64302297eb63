/**
 * What a job throws or returns is anything: an Error whose `message` getter throws, a revoked
 * Proxy, an object with a throwing getter, an invalid Date, a megabyte of text. The views
 * (list, debrief, why, the JSON Lines log, the verbose lines) never throw on them, never lose
 * the event, and stay bounded.
 */
import { describe, expect, it } from 'vitest';
import { cutText } from '../src/base/safe-text.js';
import { Job, jsonLinesSink, Scheduler } from '../src/index.js';

const hostile: [string, () => unknown][] = [
  [
    'an Error whose message getter throws',
    () => {
      const error = new Error('x');
      Object.defineProperty(error, 'message', {
        get() {
          throw new Error('getter');
        },
      });
      return error;
    },
  ],
  [
    'a revoked Proxy',
    () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    },
  ],
  [
    'an object with a throwing getter',
    () => ({
      get a(): never {
        throw new Error('getter a');
      },
    }),
  ],
  ['an invalid Date', () => new Date(Number.NaN)],
  ['an Error of a megabyte', () => new Error('y'.repeat(1_000_000))],
  ['a megabyte of text', () => 'z'.repeat(1_000_000)],
];

describe('views of hostile results and exceptions', () => {
  for (const [name, make] of hostile) {
    for (const mode of ['thrown', 'returned'] as const) {
      for (const critical of [false, true]) {
        it(`${name}, ${mode} by a ${critical ? 'critical' : 'non-critical'} job`, async () => {
          const job = new Job(
            () => {
              if (mode === 'thrown') throw make();
              return make();
            },
            { label: 'hostile', critical },
          );
          const scheduler = new Scheduler({ critical: false, jobs: [job] });
          let log = '';
          scheduler.onAny(
            jsonLinesSink({
              write: (text: string) => {
                log += text;
              },
            }),
          );
          const failures: unknown[] = [];
          scheduler.on('listener:error', (event) => failures.push(event.error));
          await scheduler.run();
          expect(failures).toEqual([]);
          const lines = log.trim().split('\n');
          // a returned revoked Proxy fails the job (awaiting it reads its `then`, which throws)
          const end = lines
            .map((line) => JSON.parse(line))
            .find((record) => record.type === 'job:done' || record.type === 'job:failed');
          expect(end?.job?.label).toBe('hostile');
          for (const line of lines) expect(line.length).toBeLessThan(20_000);
          for (const view of [scheduler.list(), scheduler.debrief(), scheduler.why()]) {
            expect(typeof view).toBe('string');
            expect(view.length).toBeLessThan(25_000);
          }
        });
      }
    }
  }

  it('a text cut next to an emoji keeps it whole or leaves it out, never half of it', () => {
    const text = `a${'😀'.repeat(10)}`;
    for (const max of [1, 2, 3, 4, 5]) {
      const cut = cutText(text, max);
      expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      expect(cut).toMatch(/… \(\d+ more characters\)$/);
    }
    expect(cutText(text, 2)).toBe('a… (20 more characters)');
  });

  it('a cut text says how much was left out', async () => {
    const job = new Job(
      () => {
        throw new Error('y'.repeat(50_000));
      },
      { label: 'big' },
    );
    const scheduler = new Scheduler({ critical: false, jobs: [job] });
    await scheduler.run();
    expect(scheduler.debrief()).toMatch(/y… \(\d+ more characters\)/);
    expect(scheduler.list()).toMatch(/Error:y+…!!/);
  });
});
