//! Running one call's independent tasks on several threads, for a `no_std` runtime: the
//! [`Parallel`] interface (as XNNPACK's pthreadpool: `run(tasks, f)` calls `f(0) .. f(tasks - 1)`,
//! each exactly once, and returns when all have returned), [`Sequential`] (the calling thread
//! alone), and, with the `std` feature, [`ThreadPool`]: persistent workers that spin briefly
//! between calls before they park, since a MobileNet layer can take less time than waking a
//! parked thread. Which thread runs a task never changes what the task computes, so work split
//! into tasks that write disjoint outputs gives the same bits on any number of threads.

/// Runs the tasks of one call on one or more threads.
pub trait Parallel {
    /// Threads that take part in a call (the calling thread included); at least 1.
    fn threads(&self) -> usize;

    /// Calls `f(i)` once for every `i` in `0..tasks`, on any of the threads, and returns when
    /// all calls have returned.
    fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync));
}

/// The calling thread alone, in task order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl Parallel for Sequential {
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

#[cfg(feature = "std")]
mod threads {
    use super::Parallel;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::thread::JoinHandle;
    use std::vec::Vec;

    /// How many times a waiting worker polls for the next call before it parks: tens of
    /// microseconds, longer than a layer, far shorter than an app's pause between frames.
    const SPINS: usize = 1 << 14;

    /// The task function of the current call, its lifetime erased (see `ThreadPool::run`).
    type Job = *const (dyn Fn(usize) + Sync);

    struct Shared {
        /// Bumped by every call (and by the shutdown); workers wait for it to change.
        epoch: AtomicUsize,
        /// The current call's task function, set before its epoch is published.
        job: Mutex<Option<SendJob>>,
        tasks: AtomicUsize,
        next: AtomicUsize,
        /// Workers done with the current call.
        finished: AtomicUsize,
        panicked: AtomicBool,
        shutdown: AtomicBool,
        /// Parked workers, and their wake-up.
        parked: Mutex<usize>,
        wake: Condvar,
    }

    #[derive(Clone, Copy)]
    struct SendJob(Job);
    // SAFETY: the pointee is `Sync`, and `ThreadPool::run` keeps it alive until every worker
    // is done with the call it belongs to.
    unsafe impl Send for SendJob {}

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
        /// system reports. Starts `threads - 1` workers.
        pub fn new(threads: usize) -> ThreadPool {
            let threads = match threads {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            };
            let shared = Arc::new(Shared {
                epoch: AtomicUsize::new(0),
                job: Mutex::new(None),
                tasks: AtomicUsize::new(0),
                next: AtomicUsize::new(0),
                finished: AtomicUsize::new(0),
                panicked: AtomicBool::new(false),
                shutdown: AtomicBool::new(false),
                parked: Mutex::new(0),
                wake: Condvar::new(),
            });
            let workers = (1..threads)
                .map(|i| {
                    let shared = Arc::clone(&shared);
                    std::thread::Builder::new()
                        .name(std::format!("mnetc-{i}"))
                        .spawn(move || worker(&shared))
                        .expect("spawn a worker thread")
                })
                .collect();
            ThreadPool {
                shared,
                workers,
                turn: Mutex::new(()),
            }
        }
    }

    /// Runs tasks of the current call until none is left.
    fn drain(shared: &Shared, job: Job) {
        let tasks = shared.tasks.load(Ordering::Acquire);
        loop {
            let i = shared.next.fetch_add(1, Ordering::Relaxed);
            if i >= tasks {
                break;
            }
            // SAFETY: the job outlives the call (`ThreadPool::run` waits for every worker).
            let f = unsafe { &*job };
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(i))).is_err() {
                shared.panicked.store(true, Ordering::Relaxed);
            }
        }
    }

    fn worker(shared: &Shared) {
        let mut seen = 0;
        loop {
            // Wait for the next call: spin, then park.
            let mut spins = 0;
            let epoch = loop {
                let e = shared.epoch.load(Ordering::Acquire);
                if e != seen {
                    break e;
                }
                if spins < SPINS {
                    spins += 1;
                    core::hint::spin_loop();
                    continue;
                }
                let mut parked = shared.parked.lock().unwrap_or_else(|e| e.into_inner());
                *parked += 1;
                while shared.epoch.load(Ordering::Acquire) == seen {
                    parked = shared.wake.wait(parked).unwrap_or_else(|e| e.into_inner());
                }
                *parked -= 1;
            };
            seen = epoch;
            if shared.shutdown.load(Ordering::Acquire) {
                return;
            }
            let job = shared
                .job
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .map(|j| j.0);
            if let Some(job) = job {
                drain(shared, job);
            }
            shared.finished.fetch_add(1, Ordering::AcqRel);
        }
    }

    impl Parallel for ThreadPool {
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
            *s.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(SendJob(job));
            s.tasks.store(tasks, Ordering::Release);
            s.next.store(0, Ordering::Release);
            s.finished.store(0, Ordering::Release);
            s.epoch.fetch_add(1, Ordering::AcqRel);
            {
                // Under the lock the workers park with, so none misses the new epoch.
                let parked = s.parked.lock().unwrap_or_else(|e| e.into_inner());
                if *parked > 0 {
                    s.wake.notify_all();
                }
            }
            drain(s, job);
            let mut spins = 0usize;
            while s.finished.load(Ordering::Acquire) < self.workers.len() {
                spins += 1;
                if spins < SPINS {
                    core::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            *s.job.lock().unwrap_or_else(|e| e.into_inner()) = None;
            if s.panicked.swap(false, Ordering::AcqRel) {
                panic!("a task of ThreadPool::run panicked");
            }
        }
    }

    impl Drop for ThreadPool {
        fn drop(&mut self) {
            let s = &*self.shared;
            s.shutdown.store(true, Ordering::Release);
            s.epoch.fetch_add(1, Ordering::AcqRel);
            {
                let _parked = s.parked.lock().unwrap_or_else(|e| e.into_inner());
                s.wake.notify_all();
            }
            for w in self.workers.drain(..) {
                let _ = w.join();
            }
        }
    }
}
