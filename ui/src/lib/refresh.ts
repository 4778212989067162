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

type Unsubscribe = () => void;
type Subscribe = (handler: (ev: { kind: string }) => void) => Promise<Unsubscribe>;

/**
 * While `shown()`, reload with `run` (coalesced over `delayMs`) whenever new
 * usage or a new session arrives on the live stream `subscribe`
 * (`onLiveEvent`). Call it from `onMount`; it returns the cleanup.
 */
export function refreshOnUsage(
  subscribe: Subscribe,
  shown: () => boolean,
  run: () => Promise<unknown>,
  delayMs = 1500,
): () => void {
  const refresher = coalesce(run, delayMs);
  let unlisten: Unsubscribe | null = null;
  let gone = false;
  subscribe((ev) => {
    if (shown() && (ev.kind === 'usage' || ev.kind === 'session.created')) refresher.trigger();
  })
    .then((u) => (gone ? u() : (unlisten = u)))
    .catch(() => {});
  return () => {
    gone = true;
    refresher.cancel();
    unlisten?.();
  };
}
