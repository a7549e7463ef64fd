//! Running one call's independent tasks on several threads, for a `no_std` runtime: the
//! [`Parallel`] interface (as XNNPACK's pthreadpool: `run(tasks, f)` calls `f(0) .. f(tasks - 1)`,
//! each exactly once, and returns when all have returned), [`Sequential`] (the calling thread
//! alone), and, with the `std` feature, [`ThreadPool`]: persistent workers that spin briefly
//! between calls before they park, since a MobileNet layer can take less time than waking a
//! parked thread. Which thread runs a task never changes what the task computes, so work split
//! into tasks that write disjoint outputs gives the same bits on any number of threads.

/// Runs the tasks of one call on one or more threads. A pool is `Sync`: several threads may
/// run calls on one pool at once (each with its own scratch).
///
/// # Safety
/// The kernels hand each task index a part of their output that no other task writes, so an
/// implementation must call `f(i)` at most once for each `i` in `0..tasks` (exactly once, for
/// the output to be complete) and must not return before every call has returned.
pub unsafe trait Parallel: Sync {
    /// Threads that take part in a call (the calling thread included); at least 1.
    fn threads(&self) -> usize;

    /// Calls `f(i)` once for every `i` in `0..tasks`, on any of the threads, and returns when
    /// all calls have returned.
    fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync));
}

/// Runs a kernel call's `n` tasks on `pool`; a call of one task runs inline.
#[inline(always)]
pub(crate) fn tasks(pool: &dyn Parallel, n: usize, f: impl Fn(usize) + Sync) {
    if n == 1 { f(0) } else { pool.run(n, &f) }
}

/// Part `i` of `parts` near-equal parts of `0..total`: `total * i / parts ..
/// total * (i + 1) / parts` (empty parts only when `parts > total`).
#[inline(always)]
pub(crate) fn share(total: usize, parts: usize, i: usize) -> core::ops::Range<usize> {
    total * i / parts..total * (i + 1) / parts
}

/// A kernel call's output as its tasks see it: a pointer that every task may copy, through
/// which each writes only its own part (rows, or rows x panels), so that tasks on several
/// threads never write the same element. Made from the call's exclusive borrow of the array.
pub(crate) struct TaskOut<'a, T = f32> {
    ptr: *mut T,
    len: usize,
    _array: core::marker::PhantomData<&'a mut [T]>,
}

impl<T> Clone for TaskOut<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TaskOut<'_, T> {}

// SAFETY: a TaskOut is a `&mut [T]` split between tasks that write disjoint parts of it (the
// contract of every kernel that makes one); T is Send.
unsafe impl<T: Send> Send for TaskOut<'_, T> {}
// SAFETY: as above: tasks on different threads write disjoint elements.
unsafe impl<T: Send> Sync for TaskOut<'_, T> {}

impl<'a, T> TaskOut<'a, T> {
    #[inline(always)]
    pub(crate) fn new(y: &'a mut [T]) -> TaskOut<'a, T> {
        TaskOut {
            ptr: y.as_mut_ptr(),
            len: y.len(),
            _array: core::marker::PhantomData,
        }
    }

    /// The first element; a task writes through it only inside its own part.
    #[inline(always)]
    #[allow(dead_code)] // used by the SIMD modules a build compiles, if any
    pub(crate) fn as_mut_ptr(self) -> *mut T {
        self.ptr
    }

    /// Elements `start..start + len` (bounds checked).
    ///
    /// # Safety
    /// They must lie in the calling task's own part, and the task must not hold two
    /// overlapping slices at once.
    #[inline(always)]
    pub(crate) unsafe fn part(self, start: usize, len: usize) -> &'a mut [T] {
        assert!(start <= self.len && len <= self.len - start);
        // SAFETY: in bounds (checked); no other task touches the range (the caller's promise),
        // and the array is exclusively borrowed for 'a.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}

/// The calling thread alone, in task order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

// SAFETY: each task once, in order, before returning.
unsafe impl Parallel for Sequential {
    fn threads(&self) -> usize {
        1
    }

    fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync)) {
        for i in 0..tasks {
            f(i);
        }
    }
}

#[cfg(feature = "std")]
pub use threads::ThreadPool;

/// An app's `rayon` pool as a [`Parallel`] (feature `rayon`): each call's tasks run as a
/// parallel iterator on it, or on rayon's global pool.
#[cfg(feature = "rayon")]
#[derive(Clone, Copy)]
pub struct Rayon<'a> {
    pool: Option<&'a rayon::ThreadPool>,
}

#[cfg(feature = "rayon")]
impl<'a> Rayon<'a> {
    /// rayon's global pool.
    pub fn global() -> Rayon<'static> {
        Rayon { pool: None }
    }

    /// An app's own rayon pool.
    pub fn new(pool: &'a rayon::ThreadPool) -> Rayon<'a> {
        Rayon { pool: Some(pool) }
    }
}

// SAFETY: a parallel iterator over `0..tasks` visits each index once, and `for_each` (and
// `install`) return after every visit has returned.
#[cfg(feature = "rayon")]
unsafe impl Parallel for Rayon<'_> {
    fn threads(&self) -> usize {
        self.pool
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
    }

    fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync)) {
        use rayon::iter::{IntoParallelIterator, ParallelIterator};
        let all = || (0..tasks).into_par_iter().for_each(f);
        match self.pool {
            Some(p) => p.install(all),
            None => all(),
        }
    }
}

#[cfg(feature = "std")]
mod threads {
    use super::Parallel;
    use core::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::thread::JoinHandle;
    use std::vec::Vec;

    /// How many times a waiting worker polls for the next call before it parks: tens of
    /// microseconds, longer than a layer, far shorter than an app's pause between frames.
    const SPINS: usize = 1 << 14;

    /// The task function of the current call, its lifetime erased (see `ThreadPool::run`).
    type Job = *const (dyn Fn(usize) + Sync);

    /// A cache line (two, for the adjacent-line prefetcher) of its own, so that what the
    /// caller writes and what the workers write never share one.
    #[repr(align(128))]
    struct Line<T>(T);

    /// What the caller writes to start a call.
    struct Call {
        /// Bumped by every call (and by the shutdown); workers wait for it to change.
        epoch: AtomicUsize,
        /// The current call's task function, written before its epoch is published and read
        /// after it is seen (see `Shared`'s `Sync`).
        job: UnsafeCell<Option<Job>>,
        shutdown: AtomicBool,
    }

    /// What the workers write during a call.
    struct Done {
        /// Workers done with the current call.
        finished: AtomicUsize,
        panicked: AtomicBool,
    }

    /// One thread's share of a call's tasks, `next..end`: the thread takes them from the front,
    /// and so do threads done with their own share.
    struct Share {
        next: AtomicUsize,
        end: AtomicUsize,
    }

    struct Shared {
        call: Line<Call>,
        done: Line<Done>,
        /// Thread `t`'s share of the current call (the caller is thread 0, worker `i` thread
        /// `i`): the same part of every layer's output, so that a thread mostly reads rows it
        /// wrote itself in the layer before, from its own cache.
        shares: Vec<Line<Share>>,
        /// Parked workers (changed under `sleep`), and their wake-up.
        parked: Line<AtomicUsize>,
        sleep: Mutex<()>,
        wake: Condvar,
    }

    // SAFETY: `call.job` is written only by `ThreadPool::run` (one call at a time, under
    // `turn`) while no worker reads it: before the epoch that publishes it (release), and after
    // every worker has counted itself finished with the previous call (acquire). Workers read
    // it only after seeing that epoch (acquire). The pointee is `Sync`, and `run` keeps it
    // alive until every worker is done with it. Everything else is atomics and locks.
    unsafe impl Sync for Shared {}
    // SAFETY: as above; the job pointer is only dereferenced within its call.
    unsafe impl Send for Shared {}

    /// Persistent worker threads (`threads - 1` of them; the caller is the last). Calls from
    /// several threads at once take turns. Dropping the pool stops and joins the workers.
    pub struct ThreadPool {
        shared: Arc<Shared>,
        workers: Vec<JoinHandle<()>>,
        /// One call at a time.
        turn: Mutex<()>,
    }

    impl ThreadPool {
        /// A pool of `threads` threads in all, the caller's included; 0 means one per CPU the
        /// system reports. Starts `threads - 1` workers; panics if the system refuses one
        /// ([`ThreadPool::try_new`] returns the error instead).
        pub fn new(threads: usize) -> ThreadPool {
            ThreadPool::try_new(threads).expect("start the pool's worker threads")
        }

        /// [`ThreadPool::new`], or the system's error if it refuses to start a thread (the
        /// workers already started are stopped).
        pub fn try_new(threads: usize) -> std::io::Result<ThreadPool> {
            let threads = match threads {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            };
            let shared = Arc::new(Shared {
                call: Line(Call {
                    epoch: AtomicUsize::new(0),
                    job: UnsafeCell::new(None),
                    shutdown: AtomicBool::new(false),
                }),
                done: Line(Done {
                    finished: AtomicUsize::new(0),
                    panicked: AtomicBool::new(false),
                }),
                shares: (0..threads)
                    .map(|_| {
                        Line(Share {
                            next: AtomicUsize::new(0),
                            end: AtomicUsize::new(0),
                        })
                    })
                    .collect(),
                parked: Line(AtomicUsize::new(0)),
                sleep: Mutex::new(()),
                wake: Condvar::new(),
            });
            let mut pool = ThreadPool {
                shared,
                workers: Vec::with_capacity(threads - 1),
                turn: Mutex::new(()),
            };
            for i in 1..threads {
                let shared = Arc::clone(&pool.shared);
                // On an error, dropping the pool stops the workers started so far.
                let worker = std::thread::Builder::new()
                    .name(std::format!("mnetc-{i}"))
                    .spawn(move || worker(&shared, i))?;
                pool.workers.push(worker);
            }
            Ok(pool)
        }
    }

    /// Runs thread `me`'s share of the current call's tasks, then what is left of the others'.
    fn drain(shared: &Shared, job: Job, me: usize) {
        let n = shared.shares.len();
        for k in 0..n {
            let share = &shared.shares[(me + k) % n].0;
            let end = share.end.load(Ordering::Relaxed);
            loop {
                let i = share.next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                // SAFETY: the job outlives the call (`ThreadPool::run` waits for every worker).
                let f = unsafe { &*job };
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(i))).is_err() {
                    shared.done.0.panicked.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    fn worker(shared: &Shared, me: usize) {
        let call = &shared.call.0;
        let mut seen = 0;
        loop {
            // Wait for the next call: spin, then park.
            let mut spins = 0;
            let epoch = loop {
                let e = call.epoch.load(Ordering::Acquire);
                if e != seen {
                    break e;
                }
                if spins < SPINS {
                    spins += 1;
                    core::hint::spin_loop();
                    continue;
                }
                let mut guard = shared.sleep.lock().unwrap_or_else(|e| e.into_inner());
                // Counted before the epoch is checked again, both sequentially consistent
                // with the caller's bump and check: either this sees the new epoch or the
                // caller sees a parked worker and wakes it (under the same lock).
                shared.parked.0.fetch_add(1, Ordering::SeqCst);
                while call.epoch.load(Ordering::SeqCst) == seen {
                    guard = shared.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
                }
                shared.parked.0.fetch_sub(1, Ordering::SeqCst);
            };
            seen = epoch;
            if call.shutdown.load(Ordering::Acquire) {
                return;
            }
            // SAFETY: read after the epoch that published it (see `Shared`).
            if let Some(job) = unsafe { *call.job.get() } {
                drain(shared, job, me);
            }
            shared.done.0.finished.fetch_add(1, Ordering::AcqRel);
        }
    }

    impl ThreadPool {
        /// Publishes a new epoch and wakes parked workers.
        fn publish(&self) {
            let s = &*self.shared;
            s.call.0.epoch.fetch_add(1, Ordering::SeqCst);
            if s.parked.0.load(Ordering::SeqCst) > 0 {
                // Under the lock the workers park with, so none misses the new epoch.
                let _guard = s.sleep.lock().unwrap_or_else(|e| e.into_inner());
                s.wake.notify_all();
            }
        }
    }

    // SAFETY: tasks are taken from atomic counters, each index from exactly one share, so
    // each runs once; `run` returns only after every worker has finished the call.
    unsafe impl Parallel for ThreadPool {
        fn threads(&self) -> usize {
            self.workers.len() + 1
        }

        fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync)) {
            if tasks <= 1 || self.workers.is_empty() {
                return super::Sequential.run(tasks, f);
            }
            let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
            let s = &*self.shared;
            // SAFETY: only the lifetime is erased; this function does not return before every
            // worker has counted itself finished with this call, after its last use of `f`.
            let job: Job = unsafe {
                core::mem::transmute::<&(dyn Fn(usize) + Sync), &'static (dyn Fn(usize) + Sync)>(f)
            };
            // SAFETY: no worker reads the job now: each finished the previous call (which
            // `run` waited for) and reads it only after the epoch published below.
            unsafe { *s.call.0.job.get() = Some(job) };
            // Contiguous shares, published by the epoch below.
            let n = s.shares.len();
            for (t, share) in s.shares.iter().enumerate() {
                let part = super::share(tasks, n, t);
                share.0.next.store(part.start, Ordering::Relaxed);
                share.0.end.store(part.end, Ordering::Relaxed);
            }
            s.done.0.finished.store(0, Ordering::Relaxed);
            self.publish();
            drain(s, job, 0);
            let mut spins = 0usize;
            while s.done.0.finished.load(Ordering::Acquire) < self.workers.len() {
                spins += 1;
                if spins < SPINS {
                    core::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            if s.done.0.panicked.swap(false, Ordering::AcqRel) {
                panic!("a task of ThreadPool::run panicked");
            }
        }
    }

    impl Drop for ThreadPool {
        fn drop(&mut self) {
            self.shared.call.0.shutdown.store(true, Ordering::Release);
            self.publish();
            for w in self.workers.drain(..) {
                let _ = w.join();
            }
        }
    }
}
