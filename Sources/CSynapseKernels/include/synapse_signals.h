#ifndef SYNAPSE_SIGNALS_H
#define SYNAPSE_SIGNALS_H

/// SIGINT and SIGTERM set a flag instead of killing the process, so a training loop can finish its step, save a
/// checkpoint and exit; the handler then restores the default action, so a second signal kills at once.
void synapse_install_interrupt_handlers(void);
/// The signal received since the handlers were installed (SIGINT or SIGTERM), or 0.
int synapse_interrupt_signal(void);

#endif
