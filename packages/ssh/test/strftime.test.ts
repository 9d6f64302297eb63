/**
 * strftime: the `%` codes of apssh formats, in local time, C locale.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { strftime } from '../src/formatters/strftime.js';

/** Wednesday 25 November 2026, 01:36:42 local time. */
const TIME = new Date(2026, 10, 25, 1, 36, 42);

describe('strftime', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it('renders each numeric code zero-padded', () => {
    expect(strftime('%Y|%m|%d|%H|%M|%S|%y|%j', TIME)).toBe('2026|11|25|01|36|42|26|329');
  });

  it('renders names in the C locale', () => {
    expect(strftime('%a %b', TIME)).toBe('Wed Nov');
    expect(strftime('%a %b', new Date(2027, 0, 3))).toBe('Sun Jan');
  });

  it('renders the composite codes %F and %T', () => {
    expect(strftime('%F %T', TIME)).toBe('2026-11-25 01:36:42');
  });

  it('pads %e with a space and %d with a zero', () => {
    const fifth = new Date(2026, 1, 5, 7, 8, 9);
    expect(strftime('[%e] [%d] %H:%M:%S', fifth)).toBe('[ 5] [05] 07:08:09');
  });

  it('pads a two-digit year of the 2000s', () => {
    expect(strftime('%y', new Date(2005, 0, 1))).toBe('05');
  });

  it('counts the day of the year from 001 to 366', () => {
    expect(strftime('%j', new Date(2026, 0, 1))).toBe('001');
    expect(strftime('%j', new Date(2024, 11, 31, 23, 59))).toBe('366');
  });

  it('counts the day of the year by calendar date across a DST change', () => {
    process.env.TZ = 'Europe/Paris';
    // 29 March 2026 is 23 hours long in Paris: elapsed milliseconds would say day 88.
    expect(strftime('%j', new Date(2026, 2, 30, 0, 30))).toBe('089');
  });

  it('uses local time', () => {
    process.env.TZ = 'Asia/Tokyo';
    expect(strftime('%F %T', new Date(Date.UTC(2026, 10, 24, 16, 36, 42)))).toBe('2026-11-25 01:36:42');
  });

  it('renders %s as whole seconds since the epoch', () => {
    expect(strftime('%s', new Date(1_000_000_999))).toBe('1000000');
  });

  it('turns %% into % without reading the next letter as a code', () => {
    expect(strftime('100%% %%Y %Y', TIME)).toBe('100% %Y 2026');
  });

  it('keeps unknown codes and a trailing % as written', () => {
    expect(strftime('%Q %Z %', TIME)).toBe('%Q %Z %');
  });

  it('returns a format without % unchanged', () => {
    expect(strftime('{host}:{line}', TIME)).toBe('{host}:{line}');
  });
});
