/* tcpwave program — subcommands. Each returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage error (message already printed). */
#ifndef TCPWAVE_TOOL_COMMANDS_H
#define TCPWAVE_TOOL_COMMANDS_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwave/config.h"
#include "tcpwave/pcap.h"
#include "tcpwave/stack.h"
#include "tcpwave/tun.h"

int cmd_demo(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_counters(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_ss(int argc, char **argv);   /* control.c */
int cmd_stat(int argc, char **argv); /* control.c */

/* --- shared by `serve` and `connect` (defined in cmd_serve.c) --- */

/* A stack on a TUN device: the options both commands take, and what they
 * open from them. */
struct realnet {
    const char *cmd;      /* "serve" or "connect", for messages */
    const char *tun_name; /* --tun */
    uint32_t addr;        /* --addr B/PREFIX: the stack's address */
    unsigned prefix;
    uint32_t peer_addr;       /* --peer-addr: the kernel side (default .1) */
    const char *pcap_path;    /* --pcap */
    const char *stats_path;   /* --stats-file */
    const char *control_path; /* --control (NULL: /run/tcpwave/<tun>.sock; "none": off) */
    struct tcpw_config cfg;   /* --set */
    /* --loss --duplicate --reorder --delay --jitter --seed: the TUN link's
     * impairment, the same both ways (seeds seed and seed + 1). */
    struct tcpw_impairment imp;
    uint64_t imp_seed;
    struct tcpw_tun *tun;
    struct tcpw_pcap *pcap;
    struct tcpw_stack *stack;
    struct control *ctl; /* the control socket (control.h), or NULL */
};

/* Signals (SIGINT/SIGTERM) seen so far; set by the program's handler, read
 * by the commands' ticks. The library keeps no such state. */
extern volatile sig_atomic_t realnet_signals;

/* Fills the defaults. */
void realnet_init(struct realnet *rn, const char *cmd);
/* Consumes argv[*i] (and its value) when it is a shared option: returns 1
 * (and advances *i past the value), 0 when not ours, -1 on a usage error
 * (printed). */
int realnet_option(struct realnet *rn, int argc, char **argv, int *i);
/* Checks the options, opens the TUN device, the capture and the stack, and
 * installs the signal handlers. Returns 0, or 1/2 (exit status, printed). */
int realnet_start(struct realnet *rn);
/* Prints the states, key counters and device counters to `f`, and writes
 * every counter to --stats-file. */
void realnet_report(const struct realnet *rn, FILE *f);
/* Connections not yet finished (every state but TIME_WAIT, LISTEN, CLOSED). */
uint64_t realnet_busy(const struct realnet *rn);
/* Runs the real-time loop on rn's device and stack with `tick` each turn
 * (50 ms at most between turns) until a signal or tick stops it. Returns 0,
 * or 1 after printing the loop's error prefixed by `who`. */
int realnet_run(struct realnet *rn, tcpw_tun_tick_fn tick, void *user, const char *who);
/* Frees what realnet_start opened. */
void realnet_stop(struct realnet *rn);

#endif
