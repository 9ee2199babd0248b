//! Two things at once: a large schema is worth the second core.

use std::sync::Mutex;

/// Runs `there` on a new thread named `name` (with a stack of `stack` bytes, if
/// given) while `here` runs on this one, and gives both results. If no thread can be
/// started, `there` runs here afterwards; a panic in it goes on here.
pub(crate) fn both<A, B: Send>(
    name: &str,
    stack: Option<usize>,
    here: impl FnOnce() -> A,
    there: impl FnOnce() -> B + Send,
) -> (A, B) {
    // `there` waits in this slot for whichever thread takes it.
    let slot = Mutex::new(Some(there));
    let take = || slot.lock().ok().and_then(|mut s| s.take());
    std::thread::scope(|s| {
        let mut thread = std::thread::Builder::new().name(name.into());
        if let Some(size) = stack {
            thread = thread.stack_size(size);
        }
        let other = thread.spawn_scoped(s, || take().map(|f| f()));
        let a = here();
        let b = match other {
            Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(_) => None,
        };
        match b.or_else(|| take().map(|f| f())) {
            Some(b) => (a, b),
            // The slot's lock is held only to take `there` out, which happens once:
            // it ran where it was taken.
            None => unreachable!("`there` ran on neither thread"),
        }
    })
}

/// Like [`both`], but `here` runs on a new thread too (or here, if none can be
/// started): what they allocate then lives apart from this thread's memory, which
/// glibc's allocator keeps faster for what this thread allocates next.
pub(crate) fn apart<A: Send, B: Send>(
    name: &str,
    here: impl FnOnce() -> A + Send,
    there: impl FnOnce() -> B + Send,
) -> (A, B) {
    // This thread waits for `here` on one new thread while `there` runs on another.
    both(name, None, || both(name, None, || (), here).1, there)
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_run() {
        let (a, b) = super::both("t", Some(1 << 20), || 1 + 1, || "two".to_owned());
        assert_eq!((a, b.as_str()), (2, "two"));
    }

    #[test]
    fn apart_runs_both_elsewhere() {
        let me = std::thread::current().id();
        let (a, b) = super::apart(
            "t",
            || std::thread::current().id(),
            || std::thread::current().id(),
        );
        assert!(a != me && b != me && a != b);
    }
}
