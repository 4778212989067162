import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalesce, refreshOnUsage } from '../src/lib/refresh';

describe('coalesce', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs once for a burst of triggers', async () => {
    const run = vi.fn(async () => {});
    const c = coalesce(run, 100);
    c.trigger();
    c.trigger();
    c.trigger();
    await vi.advanceTimersByTimeAsync(150);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('never overlaps runs and runs once more after a trigger during a run', async () => {
    let active = 0;
    let maxActive = 0;
    const run = vi.fn(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 500));
      active--;
    });
    const c = coalesce(run, 100);
    c.trigger();
    await vi.advanceTimersByTimeAsync(150); // first run in flight
    c.trigger();
    c.trigger();
    await vi.advanceTimersByTimeAsync(2000);
    expect(run).toHaveBeenCalledTimes(2);
    expect(maxActive).toBe(1);
  });

  it('cancel drops a pending run', async () => {
    const run = vi.fn(async () => {});
    const c = coalesce(run, 100);
    c.trigger();
    c.cancel();
    await vi.advanceTimersByTimeAsync(500);
    expect(run).not.toHaveBeenCalled();
  });
});

describe('refreshOnUsage', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A live stream the test sends events into. */
  function stream() {
    let handler: ((ev: { kind: string }) => void) | null = null;
    const unsubscribed = vi.fn();
    const subscribe = async (h: (ev: { kind: string }) => void) => {
      handler = h;
      return () => {
        handler = null;
        unsubscribed();
      };
    };
    return { subscribe, send: (kind: string) => handler?.({ kind }), unsubscribed };
  }

  it('reloads once for a burst of usage and new sessions, only while shown', async () => {
    const s = stream();
    const run = vi.fn(async () => {});
    let shown = false;
    const stop = refreshOnUsage(s.subscribe, () => shown, run, 100);
    await vi.advanceTimersByTimeAsync(0);
    s.send('usage');
    await vi.advanceTimersByTimeAsync(150);
    expect(run).toHaveBeenCalledTimes(0);
    shown = true;
    s.send('usage');
    s.send('session.created');
    s.send('state');
    await vi.advanceTimersByTimeAsync(150);
    expect(run).toHaveBeenCalledTimes(1);
    s.send('state');
    await vi.advanceTimersByTimeAsync(150);
    expect(run).toHaveBeenCalledTimes(1);
    stop();
    expect(s.unsubscribed).toHaveBeenCalledTimes(1);
    s.send('usage');
    await vi.advanceTimersByTimeAsync(150);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('unsubscribes a stream that answers after the cleanup ran', async () => {
    const unsubscribed = vi.fn();
    let answer: (u: () => void) => void = () => {};
    const subscribe = () => new Promise<() => void>((r) => (answer = r));
    const stop = refreshOnUsage(subscribe, () => true, async () => {}, 100);
    stop();
    answer(unsubscribed);
    await vi.advanceTimersByTimeAsync(0);
    expect(unsubscribed).toHaveBeenCalledTimes(1);
  });
});
