/* tcpwave program — ladder diagrams of a simulated exchange.
 *
 * A ladder has two columns, one per host, and one line per packet event in
 * virtual time: the packet as an arrow from sender to receiver with flags,
 * seq, ack, len, window and options, and each end's TCP state. Lines fit an
 * 80-column terminal. The JSON form prints one object per event (JSON Lines).
 */
#ifndef TCPWAVE_TOOL_LADDER_H
#define TCPWAVE_TOOL_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwave/sim.h"

enum ladder_format { LADDER_TEXT, LADDER_JSON };

/* Reports a host's current TCP state name for the state columns, or NULL
 * when the host has none to show (a scripted raw endpoint). */
typedef const char *(*ladder_state_fn)(void *user, uint32_t host_addr);

struct ladder {
    FILE *out;
    enum ladder_format format;
    bool absolute;                 /* raw sequence numbers instead of relative ones */
    uint32_t left_addr, right_addr;
    char left_name[24], right_name[24];
    ladder_state_fn state;
    void *state_user;
    uint64_t events;
    /* ISNs learnt from the SYNs, for relative numbers (as Wireshark's). A
     * connection-opening SYN (no ACK) from another port pair than the last
     * one starts a new connection's numbering; one on the same port pair
     * (a reused 4-tuple) keeps the old base, so the new sequence space
     * shows against the old one. A NAT between the hosts changes the
     * ports only on one leg, so the SYN,ACK never starts anything. */
    uint32_t isn_left, isn_right;
    bool isn_left_known, isn_right_known;
    uint16_t syn_left_port, syn_right_port; /* ports of the last opening SYN */
    /* States last shown, to print a line when they change. */
    char last_left[24], last_right[24];
    /* The packet drawn last is held until the next event says whether it
     * was lost. */
    bool pending, pending_rightward;
    char pending_time[24], pending_left[24], pending_right[24];
    char pending_text[96], pending_detail[200];
};

void ladder_init(struct ladder *l, FILE *out, enum ladder_format format, uint32_t left_addr,
                 const char *left_name, uint32_t right_addr, const char *right_name);

/* Forgets the ISNs learnt so far: the next SYN of every port pair sets a
 * new base for its relative numbers. */
void ladder_forget_isns(struct ladder *l);

/* Prints the header (text) or nothing (JSON). */
void ladder_begin(struct ladder *l);

/* A tcpw_sim_observer_fn: pass the ladder as `user`. */
void ladder_observe(void *user, enum tcpw_sim_event ev, uint32_t host_addr, const uint8_t *pkt,
                    size_t len, uint64_t now);

/* A line of commentary at `now` (what the application did or saw). */
void ladder_note(struct ladder *l, uint64_t now, const char *text);

/* Prints what is still held back and the final states. */
void ladder_end(struct ladder *l, uint64_t now);

#endif
