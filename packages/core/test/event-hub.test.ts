/**
 * EventHub (model/event-hub.ts), the emitter behind `on()` and `onAny()`: `active` counts each
 * listener once, however it was subscribed and unsubscribed (the run loop builds no event when it
 * is false), and a dispatch goes to the listeners there were when it started.
 */
import { describe, expect, it } from 'vitest';
import type { SchedulerEvent } from '../src/index.js';
import { EventHub } from '../src/model/event-hub.js';

const message = (text: string): SchedulerEvent =>
  ({ type: 'job:message', message: text, time: 0, path: [] }) as unknown as SchedulerEvent;

describe('EventHub', () => {
  it('is active while a listener is subscribed: twice the same counts once, unsubscribing twice does nothing', () => {
    const hub = new EventHub();
    const listener = () => undefined;
    expect(hub.active).toBe(false);
    const offA = hub.on('job:message', listener);
    const offB = hub.on('job:message', listener);
    const offAnyA = hub.onAny(listener);
    const offAnyB = hub.onAny(listener);
    expect(hub.active).toBe(true);
    offA();
    // the typed subscription is gone (once, whichever function removes it); the any one stays
    offB();
    expect(hub.active).toBe(true);
    offAnyB();
    expect(hub.active).toBe(false);
    offAnyA();
    offA();
    expect(hub.active).toBe(false);
    hub.onAny(listener);
    expect(hub.active).toBe(true);
  });

  it('a listener added or removed during a dispatch: the event goes to those there were when it started', () => {
    const hub = new EventHub();
    const heard: string[] = [];
    const late = (event: SchedulerEvent) => heard.push(`late ${(event as { message?: string }).message}`);
    let offSecond: () => void = () => undefined;
    hub.onAny((event) => {
      heard.push(`first ${(event as { message?: string }).message}`);
      hub.onAny(late);
      offSecond();
    });
    offSecond = hub.onAny((event) => heard.push(`second ${(event as { message?: string }).message}`));
    hub.dispatch(message('a'));
    hub.dispatch(message('b'));
    expect(heard).toEqual(['first a', 'second a', 'first b', 'late b']);
  });

  it('a listener that throws: the others still hear the event, and a listener:error follows', () => {
    const hub = new EventHub();
    const heard: string[] = [];
    hub.on('job:message', () => {
      throw new Error('broken listener');
    });
    hub.onAny((event) => heard.push(event.type));
    hub.dispatch(message('x'));
    // in the order they happened: the event, then the failure it caused (a log had them reversed)
    expect(heard).toEqual(['job:message', 'listener:error']);
  });

  it('a listener returning something whose then cannot be read: a listener:error, the dispatch goes on', () => {
    const hub = new EventHub();
    const heard: string[] = [];
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    hub.on('job:message', () => proxy as never);
    hub.onAny((event) => heard.push(event.type));
    expect(() => hub.dispatch(message('x'))).not.toThrow();
    expect(heard).toEqual(['job:message', 'listener:error']);
  });

  it('an async listener that rejects: a listener:error once it has, no unhandled rejection', async () => {
    const hub = new EventHub();
    const heard: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // biome-ignore lint/nursery/noMisusedPromises: a user's async listener (no lint there) is what is tested
      hub.on('job:message', async () => {
        await Promise.resolve();
        throw new Error('async listener failed');
      });
      // biome-ignore lint/nursery/noMisusedPromises: as above
      hub.onAny((event) => {
        heard.push(event.type);
        // a failing async listener of listener:error itself is dropped, no loop
        if (event.type === 'listener:error') return Promise.reject(new Error('again'));
        return undefined;
      });
      hub.dispatch(message('x'));
      expect(heard).toEqual(['job:message']);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(heard).toEqual(['job:message', 'listener:error']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
