/**
 * Coalesce bursts of "something changed, reload X" into one call of `run`
 * after `delayMs`, never running two at once: a trigger that arrives while a
 * run is in flight schedules exactly one more run after it.
 */
export function coalesce(run: () => Promise<unknown>, delayMs: number) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let again = false;

  const fire = async () => {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await run();
    } catch {
      // the caller's `run` reports its own errors
    } finally {
      running = false;
      if (again) {
        again = false;
        trigger();
      }
    }
  };

  function trigger(): void {
    if (timer !== null) return;
    timer = setTimeout(fire, delayMs);
  }

  function cancel(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    again = false;
  }

  return { trigger, cancel };
}
