//! The runtime's `pool` (the first part of the multithreaded forward pass): every task runs
//! exactly once on any number of threads, the pool survives 10,000 back-to-back calls and calls
//! from two threads at once, a pool of 0 threads means one per CPU, more threads than tasks
//! works, a panicking task panics the call (and the pool goes on), and dropping a pool, busy a
//! moment ago or parked, stops its workers.

use mnetc_runtime::pool::{Parallel, Sequential, ThreadPool};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `tasks` tasks that count their calls; every count must be 1.
fn each_once(pool: &dyn Parallel, tasks: usize) {
    let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
    pool.run(tasks, &|i| {
        counts[i].fetch_add(1, Ordering::Relaxed);
    });
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(c.load(Ordering::Relaxed), 1, "task {i} of {tasks}");
    }
}

#[test]
fn every_task_runs_once_on_any_number_of_threads() {
    let order = std::sync::Mutex::new(Vec::new());
    Sequential.run(5, &|i| order.lock().unwrap().push(i));
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    for threads in [1, 2, 3, 7] {
        let pool = ThreadPool::new(threads);
        assert_eq!(pool.threads(), threads);
        for tasks in [0, 1, 2, 3, 7, 64, 1000] {
            each_once(&pool, tasks);
        }
    }
    let all = ThreadPool::new(0);
    assert!(all.threads() >= 1);
    each_once(&all, 100);
}

#[test]
fn ten_thousand_calls_and_two_callers_at_once() {
    let pool = Arc::new(ThreadPool::new(2));
    let sum = AtomicUsize::new(0);
    for _ in 0..10_000 {
        pool.run(4, &|i| {
            sum.fetch_add(i + 1, Ordering::Relaxed);
        });
    }
    assert_eq!(sum.load(Ordering::Relaxed), 10_000 * 10);
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || {
                for _ in 0..500 {
                    each_once(&*pool, 16);
                }
            })
        })
        .collect();
    for c in callers {
        c.join().unwrap();
    }
}

#[test]
fn a_panicking_task_panics_the_call_and_the_pool_goes_on() {
    let pool = ThreadPool::new(2);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.run(8, &|i| {
            if i == 5 {
                panic!("task 5");
            }
        })
    }));
    assert!(r.is_err());
    each_once(&pool, 8);
}

#[test]
fn dropping_a_pool_stops_its_workers() {
    // Right after a call (workers spinning), and after they have parked.
    let pool = ThreadPool::new(3);
    each_once(&pool, 10);
    drop(pool);
    let pool = ThreadPool::new(3);
    each_once(&pool, 10);
    std::thread::sleep(std::time::Duration::from_millis(50));
    each_once(&pool, 10);
    std::thread::sleep(std::time::Duration::from_millis(50));
    drop(pool);
    // Never used.
    drop(ThreadPool::new(4));
}

#[test]
fn parked_workers_wake_for_every_call() {
    // Pauses longer than the workers' spinning: each call finds them parked.
    let pool = ThreadPool::new(3);
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(2));
        each_once(&pool, 9);
    }
}
