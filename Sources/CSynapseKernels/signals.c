#include "synapse_signals.h"
#include <signal.h>

static volatile sig_atomic_t received = 0;

static void on_signal(int sig) {
    received = sig;
    signal(sig, SIG_DFL);   /* a second Ctrl-C ends the process the usual way */
}

void synapse_install_interrupt_handlers(void) {
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    /* Blocking calls resume after the handler: Foundation's reads treat EINTR as fatal (readDataToEndOfFile). */
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, 0);
    sigaction(SIGTERM, &action, 0);
}

int synapse_interrupt_signal(void) { return received; }
