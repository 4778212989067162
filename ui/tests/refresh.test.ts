import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalesce } from '../src/lib/refresh';

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
