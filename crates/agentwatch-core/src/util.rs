//! Small helpers shared by several modules.

/// FNV-1a, 64-bit: a stable hash (unlike std's, which is seeded per run), used
/// for keys that are stored on disk.
#[derive(Debug, Clone, Copy)]
pub struct Fnv64(u64);

impl Fnv64 {
    pub fn new() -> Fnv64 {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub fn finish(&self) -> u64 {
        self.0
    }

    pub fn hash(bytes: &[u8]) -> u64 {
        let mut h = Fnv64::new();
        h.write(bytes);
        h.finish()
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}

/// Milliseconds since the Unix epoch.
/// `f` over every item, on up to `threads` threads (each takes the next
/// item as it finishes one), the results in the items' order. Below
/// `min_items` items, on this thread alone: a thread costs more than a few
/// items do.
pub fn par_map<T: Sync, R: Send>(items: &[T], threads: usize, min_items: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 || items.len() < min_items {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Many small items are taken a few at a time, so that the counter is
    // not fought over; a few big ones (the agents' folders) one at a time,
    // so that one thread does not take them all.
    let take = (items.len() / (threads * 8)).clamp(1, 64);
    let mut parts: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (next, f) = (&next, &f);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let from = next.fetch_add(take, std::sync::atomic::Ordering::Relaxed);
                        if from >= items.len() {
                            break out;
                        }
                        let to = (from + take).min(items.len());
                        out.extend(items[from..to].iter().enumerate().map(|(i, item)| (from + i, f(item))));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let mut all: Vec<(usize, R)> = parts.iter_mut().flat_map(std::mem::take).collect();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// The threads worth using for work the kernel does (file system walks and
/// stats): the cores, at most 4.
pub fn io_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4)
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A time in ms as RFC 3339 UTC with milliseconds, as every view shows times.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A small deterministic random number source for tests (xorshift64).
#[cfg(test)]
pub struct TestRng(std::cell::Cell<u64>);

#[cfg(test)]
impl TestRng {
    pub fn new(seed: u64) -> TestRng {
        TestRng(std::cell::Cell::new(seed))
    }

    /// A number in `0..n`.
    pub fn below(&self, n: u64) -> u64 {
        let mut x = self.0.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.set(x);
        x % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_the_order_and_uses_threads_only_for_many_items() {
        let items: Vec<u64> = (0..1000).collect();
        let me = std::thread::current().id();
        let out = par_map(&items, 3, 100, |x| (x * x, std::thread::current().id()));
        assert_eq!(out.iter().map(|(y, _)| *y).collect::<Vec<_>>(), items.iter().map(|x| x * x).collect::<Vec<_>>());
        assert!(out.iter().all(|(_, t)| *t != me), "on the spawned threads");
        let few = par_map(&items[..10], 3, 100, |x| (x + 1, std::thread::current().id()));
        assert_eq!(few.iter().map(|(y, _)| *y).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
        assert!(few.iter().all(|(_, t)| *t == me), "too few to be worth a thread");
        assert!(par_map(&[] as &[u64], 3, 0, |x| *x).is_empty());
    }

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(Fnv64::hash(b""), 0xcbf29ce484222325);
        assert_eq!(Fnv64::hash(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(Fnv64::hash(b"foobar"), 0x85944171f73967e8);
    }
}
