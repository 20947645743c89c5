#include "synapse_team.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define PAUSE() _mm_pause()
#else
#define PAUSE() ((void)0)
#endif

// Spins before a waiting worker sleeps (a decode step's gap for sampling is ~50 µs; a chat turn's is seconds).
#define SPINS_BEFORE_SLEEP 200000
// Spins at a barrier before yielding the core (the other thread may have been descheduled on a busy host).
#define SPINS_BEFORE_YIELD 20000

struct synapse_team {
    int size;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic unsigned long job;      // incremented to start a job
    _Atomic int finished;           // workers done with the current job
    _Atomic int sleeping;           // workers waiting on `wake`
    _Atomic int quit;
    _Atomic unsigned arrived;       // barrier
    _Atomic unsigned phase;
    synapse_team_function function;
    void *context;
};

typedef struct {
    synapse_team *team;
    int index;
} worker_start;

static void *worker(void *argument) {
    worker_start start = *(worker_start *)argument;
    free(argument);
    synapse_team *team = start.team;
    unsigned long seen = 0;
    for (;;) {
        unsigned long job;
        int spins = 0;
        while ((job = atomic_load_explicit(&team->job, memory_order_acquire)) == seen) {
            if (++spins < SPINS_BEFORE_SLEEP) { PAUSE(); continue; }
            pthread_mutex_lock(&team->lock);
            atomic_fetch_add(&team->sleeping, 1);
            while (atomic_load(&team->job) == seen && !atomic_load(&team->quit)) pthread_cond_wait(&team->wake, &team->lock);
            atomic_fetch_sub(&team->sleeping, 1);
            pthread_mutex_unlock(&team->lock);
            spins = 0;
            if (atomic_load(&team->quit)) return NULL;
        }
        seen = job;
        if (atomic_load(&team->quit)) return NULL;
        team->function(team->context, start.index);
        atomic_fetch_add_explicit(&team->finished, 1, memory_order_release);
    }
}

synapse_team *synapse_team_create(int threads) {
    if (threads < 1) threads = 1;
    synapse_team *team = calloc(1, sizeof(synapse_team));
    if (!team) return NULL;
    team->size = threads;
    pthread_mutex_init(&team->lock, NULL);
    pthread_cond_init(&team->wake, NULL);
    team->threads = calloc((size_t)threads, sizeof(pthread_t));
    for (int i = 1; i < threads; i++) {
        worker_start *start = malloc(sizeof(worker_start));
        start->team = team;
        start->index = i;
        if (pthread_create(&team->threads[i], NULL, worker, start) != 0) {
            free(start);
            team->size = i;  // run with the threads that exist
            break;
        }
    }
    return team;
}

void synapse_team_destroy(synapse_team *team) {
    if (!team) return;
    pthread_mutex_lock(&team->lock);
    atomic_store(&team->quit, 1);
    atomic_fetch_add(&team->job, 1);
    pthread_cond_broadcast(&team->wake);
    pthread_mutex_unlock(&team->lock);
    for (int i = 1; i < team->size; i++) pthread_join(team->threads[i], NULL);
    pthread_cond_destroy(&team->wake);
    pthread_mutex_destroy(&team->lock);
    free(team->threads);
    free(team);
}

int synapse_team_size(const synapse_team *team) { return team->size; }

void synapse_team_run(synapse_team *team, synapse_team_function function, void *context) {
    if (team->size == 1) {
        function(context, 0);
        return;
    }
    team->function = function;
    team->context = context;
    atomic_store_explicit(&team->finished, 0, memory_order_relaxed);
    atomic_fetch_add(&team->job, 1);  // sequentially consistent: ordered before the load of `sleeping`
    if (atomic_load(&team->sleeping) > 0) {
        pthread_mutex_lock(&team->lock);
        pthread_cond_broadcast(&team->wake);
        pthread_mutex_unlock(&team->lock);
    }
    function(context, 0);
    int spins = 0;
    while (atomic_load_explicit(&team->finished, memory_order_acquire) < team->size - 1) {
        if (++spins < SPINS_BEFORE_YIELD) PAUSE(); else { sched_yield(); spins = 0; }
    }
}

void synapse_team_barrier(synapse_team *team) {
    if (team->size == 1) return;
    unsigned phase = atomic_load_explicit(&team->phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&team->arrived, 1, memory_order_acq_rel) == (unsigned)team->size - 1) {
        atomic_store_explicit(&team->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&team->phase, 1, memory_order_release);
        return;
    }
    int spins = 0;
    while (atomic_load_explicit(&team->phase, memory_order_acquire) == phase) {
        if (++spins < SPINS_BEFORE_YIELD) PAUSE(); else { sched_yield(); spins = 0; }
    }
}
