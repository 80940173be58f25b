// The zoo's thread pool: long-lived workers that spin briefly between jobs, so that a model's hundred-odd
// parallel loops per forward do not each pay a wake-up through the kernel. Parts are claimed, not assigned:
// on a busy machine (a VM whose other vCPU the host has taken away) the caller runs every part itself
// instead of waiting for a worker that is not there.
#include "CKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

// A plain spin, without the pause instruction: in a VM, pause loops trap to the hypervisor, which then
// deschedules the spinning vCPU (pause-loop exiting). About 70 µs before a worker sleeps (Zen 4): the serial
// stretches of a forward between its parallel loops (a few µs each) put workers that slept after 4 µs to sleep
// ten times a MobileNetV2 forward, and each wake-up cost a futex call and the worker's rescheduling (batch 1, two
// threads: 4.72 → 4.52–4.59 ms).
#define SPIN_ROUNDS (1 << 18)
// About 10 µs of spinning, after which a waiting thread yields now and then: a no-op while the threads have a
// core each, the only way forward when two share one.
#define YIELD_ROUNDS (1 << 15)

// The job in one word: generation (24 bits) | parts (20 bits) | next unclaimed part (20 bits). A part is
// claimed by a compare-and-swap on the word, so a worker that wakes late can never claim a part of a job
// that is over, and the task and context it then reads are that job's (they change only between jobs).
static _Atomic uint64_t state;
static zoo_task job_task;
static void *job_context;
static _Atomic long unfinished;  // parts claimed or not yet claimed, not yet done

#define PARTS(s) ((long)(((s) >> 20) & 0xFFFFF))
#define NEXT(s) ((long)((s) & 0xFFFFF))

static long worker_count;
static _Atomic int sleepers;
static pthread_mutex_t sleeping = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t submitting = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int inside_job;

/// Claims and runs parts of the current job until none is left; returns the last state seen.
static uint64_t run_parts(void) {
    uint64_t s = atomic_load_explicit(&state, memory_order_acquire);
    while (NEXT(s) < PARTS(s)) {
        if (!atomic_compare_exchange_weak_explicit(&state, &s, s + 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        job_task(job_context, NEXT(s));
        atomic_fetch_sub_explicit(&unfinished, 1, memory_order_release);
        s = atomic_load_explicit(&state, memory_order_acquire);
    }
    return s;
}

static void *work(void *unused) {
    (void)unused;
    inside_job = 1;  // a loop inside a part runs on its thread
    for (;;) {
        uint64_t seen = run_parts();
        for (long spins = 0; atomic_load_explicit(&state, memory_order_acquire) == seen; spins++) {
            if (spins % YIELD_ROUNDS == YIELD_ROUNDS - 1) sched_yield();  // the caller may be waiting on this core
            if (spins < SPIN_ROUNDS) continue;
            pthread_mutex_lock(&sleeping);
            atomic_fetch_add(&sleepers, 1);  // seq_cst against the poster's store of `state`, then load of `sleepers`
            while (atomic_load(&state) == seen) pthread_cond_wait(&wake, &sleeping);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleeping);
        }
    }
    return NULL;
}

/// A child made by fork() has none of the parent's workers, nor any part of a job in flight: it starts its own
/// workers when it needs them.
static void forget_workers(void) {
    atomic_store(&state, atomic_load(&state) >> 40 << 40);  // the generation stays; no parts
    worker_count = 0;
    atomic_store(&sleepers, 0);
    pthread_mutex_init(&submitting, NULL);
    pthread_mutex_init(&sleeping, NULL);
    pthread_cond_init(&wake, NULL);
}

static void register_fork_handler(void) { pthread_atfork(NULL, NULL, forget_workers); }

/// Starts workers until there are `wanted` (or as many as the system gives).
static void grow(long wanted) {
    static pthread_once_t registered = PTHREAD_ONCE_INIT;
    pthread_once(&registered, register_fork_handler);
    for (; worker_count < wanted; worker_count++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, work, NULL) != 0) return;
        pthread_detach(thread);
    }
}

void zoo_parallel(long parts, zoo_task task, void *context) {
    // Serial when there is nothing to share, inside a job (nested loops), or while another thread's job runs.
    if (parts <= 1 || parts > 0xFFFFF || inside_job || pthread_mutex_trylock(&submitting) != 0) {
        for (long p = 0; p < parts; p++) task(context, p);
        return;
    }
    grow(parts - 1);
    job_task = task;
    job_context = context;
    atomic_store_explicit(&unfinished, parts, memory_order_relaxed);
    uint64_t generation = (atomic_load_explicit(&state, memory_order_relaxed) >> 40) + 1;
    atomic_store(&state, (generation << 40) | ((uint64_t)parts << 20));
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleeping);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleeping);
    }
    inside_job = 1;
    run_parts();
    inside_job = 0;
    // A worker still in its part may share this core (the scheduler puts a waking thread next to its waker when
    // the other core looks busy): after a while the wait lets it run rather than spin through the time slice.
    for (long spins = 0; atomic_load_explicit(&unfinished, memory_order_acquire) > 0; spins++)
        if (spins >= YIELD_ROUNDS) sched_yield();
    pthread_mutex_unlock(&submitting);
}
