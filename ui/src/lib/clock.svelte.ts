// One shared wall clock that ticks every second, for live runtimes and ages.

let now = $state(Date.now());
let timer: ReturnType<typeof setInterval> | null = null;

export const clock = {
  get now(): number {
    if (timer === null && typeof window !== 'undefined') {
      timer = setInterval(() => (now = Date.now()), 1000);
    }
    return now;
  },
};
