#ifndef SYNAPSE_TEAM_H
#define SYNAPSE_TEAM_H

#ifdef __cplusplus
extern "C" {
#endif

// A fixed team of threads that run one function together and meet at spinning barriers: for work such as one LLM
// decode step, made of ~120 short phases that each need every core, where waking pooled threads per phase (10–20 µs
// each) would cost more than the phases. Between jobs the workers spin briefly, then sleep on a condition variable.

typedef struct synapse_team synapse_team;
typedef void (*synapse_team_function)(void *context, int thread);

/// A team of `threads` (≥ 1) including the caller of `synapse_team_run`; NULL if the threads cannot be made.
synapse_team *synapse_team_create(int threads);
void synapse_team_destroy(synapse_team *team);
int synapse_team_size(const synapse_team *team);

/// Calls function(context, t) on every thread t of the team (the caller is thread 0) and returns when all are done.
/// One job at a time per team.
void synapse_team_run(synapse_team *team, synapse_team_function function, void *context);

/// Inside a job: waits until every thread of the team has arrived.
void synapse_team_barrier(synapse_team *team);

#ifdef __cplusplus
}
#endif

#endif
