/* tcpwave program — ladder diagrams (see ladder.h).
 *
 * Text layout, 79 columns:
 *
 *   time (s)   left state   <-------- arrow: flags seq ack ------->  right state
 *                           len, window and options of the packet
 *
 * A packet is drawn when it is sent, with both ends' states at that moment;
 * a lost packet's arrow ends in X. When a packet's arrival changes a state,
 * a line with both new states follows at the arrival time. Sequence numbers
 * are relative to each side's ISN (as Wireshark shows them) unless
 * `absolute` is set; JSON always carries the raw numbers.
 */
#include "ladder.h"

#include <inttypes.h>
#include <string.h>

#include "wire/wire.h"

#define TIME_W 10
#define STATE_W 12
#define ARROW_W 42

void ladder_init(struct ladder *l, FILE *out, enum ladder_format format, uint32_t left_addr,
                 const char *left_name, uint32_t right_addr, const char *right_name)
{
    memset(l, 0, sizeof(*l));
    l->out = out;
    l->format = format;
    l->left_addr = left_addr;
    l->right_addr = right_addr;
    snprintf(l->left_name, sizeof(l->left_name), "%s", left_name);
    snprintf(l->right_name, sizeof(l->right_name), "%s", right_name);
}

static void fmt_time(uint64_t now, char buf[24])
{
    snprintf(buf, 24, "%" PRIu64 ".%06" PRIu64, now / 1000000u, now % 1000000u);
}

static const char *state_of(struct ladder *l, uint32_t addr)
{
    const char *s = l->state ? l->state(l->state_user, addr) : NULL;
    return s ? s : "";
}

static void remember_states(struct ladder *l)
{
    snprintf(l->last_left, sizeof(l->last_left), "%s", state_of(l, l->left_addr));
    snprintf(l->last_right, sizeof(l->last_right), "%s", state_of(l, l->right_addr));
}

void ladder_begin(struct ladder *l)
{
    char a[16], b[16];
    remember_states(l);
    if (l->format != LADDER_TEXT)
        return;
    fprintf(l->out, "%*s %-*s%*s\n", TIME_W, "time (s)", STATE_W + 1 + ARROW_W / 2,
            l->left_name, ARROW_W / 2 + 1 + STATE_W, l->right_name);
    fprintf(l->out, "%*s %-*s%*s\n", TIME_W, "", STATE_W + 1 + ARROW_W / 2,
            tcpw_addr_str(l->left_addr, a), ARROW_W / 2 + 1 + STATE_W,
            tcpw_addr_str(l->right_addr, b));
    fprintf(l->out, "%*s %-*s%*s\n", TIME_W, "", STATE_W, l->last_left,
            ARROW_W + 2 + STATE_W, l->last_right);
}

void ladder_forget_isns(struct ladder *l) { l->isn_left_known = l->isn_right_known = false; }

/* Sequence numbers relative to the sender's ISN (and acks to the
 * receiver's), learnt from the SYNs, as Wireshark's "relative" numbers. */
static void relative(struct ladder *l, bool from_left, const struct tcpw_tcp *t, uint32_t *seq,
                     uint32_t *ack)
{
    uint32_t *own = from_left ? &l->isn_left : &l->isn_right;
    bool *own_known = from_left ? &l->isn_left_known : &l->isn_right_known;
    uint32_t peer;
    bool peer_known;

    if ((t->flags & TCPW_SYN) && !(t->flags & TCPW_ACK)) {
        uint16_t lp = from_left ? t->sport : t->dport, rp = from_left ? t->dport : t->sport;
        if (lp != l->syn_left_port || rp != l->syn_right_port)
            ladder_forget_isns(l); /* another connection */
        l->syn_left_port = lp;
        l->syn_right_port = rp;
    }
    if ((t->flags & TCPW_SYN) && !*own_known) {
        *own = t->seq;
        *own_known = true;
    }
    peer = from_left ? l->isn_right : l->isn_left;
    peer_known = from_left ? l->isn_right_known : l->isn_left_known;
    *seq = t->seq;
    *ack = t->ack;
    if (l->absolute)
        return;
    if (*own_known)
        *seq = t->seq - *own;
    if (peer_known)
        *ack = t->ack - peer;
}

static void options_text(const struct tcpw_tcp_opts *o, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < cap)                                                                               \
            n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__);                                 \
    } while (0)
    if (o->has_mss)
        ADD("%smss %u", n ? "," : "", (unsigned)o->mss);
    if (o->sack_permitted)
        ADD("%ssackOK", n ? "," : "");
    if (o->has_ts)
        ADD("%sTS %" PRIu32 "/%" PRIu32, n ? "," : "", o->ts_val, o->ts_ecr);
    if (o->has_wscale)
        ADD("%sws %u", n ? "," : "", (unsigned)o->wscale);
    for (unsigned i = 0; i < o->sack_count; i++)
        ADD("%ssack %" PRIu32 "-%" PRIu32, n ? "," : "", o->sack[i].left, o->sack[i].right);
#undef ADD
}

/* Draws "---- text ---->" or "<---- text ----" exactly ARROW_W wide; a lost
 * packet's head is an X. */
static void draw_arrow(char *out, const char *text, bool rightward, bool lost)
{
    size_t tl = strlen(text), i = 0, dashes, left, right;

    /* Leave at least 6 dashes (4 on the tail side, 2 at the head) so both
     * runs below stay positive: a longer text is cut. */
    if (tl > ARROW_W - 9)
        tl = ARROW_W - 9;
    dashes = ARROW_W - tl - 3; /* two spaces around the text, one head */
    left = rightward ? 4 : dashes - 4;
    right = dashes - left;
    if (!rightward)
        out[i++] = lost ? 'X' : '<';
    for (size_t k = 0; k < left; k++)
        out[i++] = '-';
    out[i++] = ' ';
    memcpy(out + i, text, tl);
    i += tl;
    out[i++] = ' ';
    for (size_t k = 0; k < right; k++)
        out[i++] = '-';
    if (rightward)
        out[i++] = lost ? 'X' : '>';
    out[i] = '\0';
}

static void flush_pending(struct ladder *l, bool lost)
{
    char arrow[ARROW_W + 8];

    if (!l->pending)
        return;
    l->pending = false;
    draw_arrow(arrow, l->pending_text, l->pending_rightward, lost);
    fprintf(l->out, "%*s %-*.*s %s %-.*s\n", TIME_W, l->pending_time, STATE_W, STATE_W,
            l->pending_left, arrow, STATE_W, l->pending_right);
    if (l->pending_detail[0] || lost)
        fprintf(l->out, "%*s   %s%s\n", TIME_W, "", l->pending_detail, lost ? " (lost)" : "");
}

/* Prints a line with both states when either changed since last shown. */
static void sync_states(struct ladder *l, uint64_t now, uint32_t arrived_at)
{
    char t[24];
    const char *left = state_of(l, l->left_addr), *right = state_of(l, l->right_addr);

    if (strcmp(left, l->last_left) == 0 && strcmp(right, l->last_right) == 0)
        return;
    remember_states(l);
    if (l->format != LADDER_TEXT)
        return;
    fmt_time(now, t);
    fprintf(l->out, "%*s %-*s %*s %s\n", TIME_W, t, STATE_W, left, ARROW_W,
            arrived_at == l->right_addr   ? "arrives -->| "
            : arrived_at == l->left_addr ? "|<-- arrives                              "
                                         : "",
            right);
}

static void json_packet(struct ladder *l, const char *event, uint32_t host,
                        const struct tcpw_packet *p, enum tcpw_drop_reason r, uint64_t now)
{
    char t[24], a[16], f[32], opts[200];
    fmt_time(now, t);
    fprintf(l->out, "{\"time\":%s,\"event\":\"%s\",\"host\":\"%s\"", t, event,
            tcpw_addr_str(host, a));
    if (r != TCPW_DROP_NONE) {
        fprintf(l->out, ",\"malformed\":\"%s\"", tcpw_drop_reason_name(r));
    } else if (p->ip.proto == TCPW_IP_PROTO_TCP) {
        const struct tcpw_tcp *tc = &p->l4.tcp;
        options_text(&tc->opts, opts, sizeof(opts));
        fprintf(l->out,
                ",\"src\":\"%s:%u\",\"flags\":\"%s\",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32
                ",\"len\":%zu,\"win\":%u,\"options\":\"%s\"",
                tcpw_addr_str(p->ip.src, a), (unsigned)tc->sport, tcpw_tcp_flags_str(tc->flags, f),
                tc->seq, tc->ack, tc->payload_len, (unsigned)tc->wnd, opts);
    } else if (p->ip.proto == TCPW_IP_PROTO_ICMP) {
        fprintf(l->out, ",\"icmp_type\":%u,\"icmp_code\":%u", (unsigned)p->l4.icmp.type,
                (unsigned)p->l4.icmp.code);
    }
    fprintf(l->out, ",\"state_left\":\"%s\",\"state_right\":\"%s\"}\n", state_of(l, l->left_addr),
            state_of(l, l->right_addr));
}

static const char *event_name(enum tcpw_sim_event ev)
{
    switch (ev) {
    case TCPW_SIM_SENT:
        return "sent";
    case TCPW_SIM_DELIVERED:
        return "delivered";
    case TCPW_SIM_LOST:
        return "lost";
    case TCPW_SIM_DUPLICATED:
        return "duplicated";
    case TCPW_SIM_BLACK_HOLED:
        return "black-holed";
    case TCPW_SIM_NO_ROUTE:
        return "no-route";
    case TCPW_SIM_NAT_REWRITTEN:
        return "nat";
    case TCPW_SIM_PROCESSED:
        return "processed";
    }
    return "?";
}

static void text_sent(struct ladder *l, uint32_t host, const struct tcpw_packet *p,
                      enum tcpw_drop_reason r, uint64_t now)
{
    char f[32], opts[160];

    fmt_time(now, l->pending_time);
    snprintf(l->pending_left, sizeof(l->pending_left), "%s", state_of(l, l->left_addr));
    snprintf(l->pending_right, sizeof(l->pending_right), "%s", state_of(l, l->right_addr));
    l->pending_rightward = host == l->left_addr;
    l->pending_detail[0] = '\0';
    if (r != TCPW_DROP_NONE) {
        snprintf(l->pending_text, sizeof(l->pending_text), "malformed: %s",
                 tcpw_drop_reason_name(r));
    } else if (p->ip.proto == TCPW_IP_PROTO_TCP) {
        const struct tcpw_tcp *t = &p->l4.tcp;
        uint32_t seq, ack;
        relative(l, host == l->left_addr, t, &seq, &ack);
        tcpw_tcp_flags_str(t->flags, f);
        if (t->flags & TCPW_ACK)
            snprintf(l->pending_text, sizeof(l->pending_text), "%s seq=%" PRIu32 " ack=%" PRIu32,
                     f, seq, ack);
        else
            snprintf(l->pending_text, sizeof(l->pending_text), "%s seq=%" PRIu32, f, seq);
        options_text(&t->opts, opts, sizeof(opts));
        snprintf(l->pending_detail, sizeof(l->pending_detail), "len=%zu win=%u%s%s%s",
                 t->payload_len, (unsigned)t->wnd, opts[0] ? " <" : "", opts,
                 opts[0] ? ">" : "");
        /* Keep the detail line inside 79 columns. */
        if (strlen(l->pending_detail) > 79 - TIME_W - 3)
            strcpy(l->pending_detail + 79 - TIME_W - 7, "...>");
    } else {
        snprintf(l->pending_text, sizeof(l->pending_text), "ICMP type=%u code=%u",
                 (unsigned)p->l4.icmp.type, (unsigned)p->l4.icmp.code);
    }
    l->pending = true;
    remember_states(l);
}

void ladder_observe(void *user, enum tcpw_sim_event ev, uint32_t host, const uint8_t *pkt,
                    size_t len, uint64_t now)
{
    struct ladder *l = user;
    struct tcpw_packet p;
    enum tcpw_drop_reason r;

    l->events++;
    memset(&p, 0, sizeof(p));
    r = tcpw_packet_parse(pkt, len, &p);
    if (l->format == LADDER_JSON) {
        if (ev != TCPW_SIM_PROCESSED)
            json_packet(l, event_name(ev), host, &p, r, now);
        return;
    }
    switch (ev) {
    case TCPW_SIM_SENT:
        flush_pending(l, false);
        text_sent(l, host, &p, r, now);
        break;
    case TCPW_SIM_LOST:
        if (l->pending) {
            flush_pending(l, true);
        } else {
            char t[24];
            fmt_time(now, t);
            fprintf(l->out, "%*s %*s  (a packet was lost)\n", TIME_W, t, STATE_W, "");
        }
        break;
    case TCPW_SIM_DELIVERED:
    case TCPW_SIM_NAT_REWRITTEN:
        flush_pending(l, false);
        break;
    case TCPW_SIM_PROCESSED:
        flush_pending(l, false);
        sync_states(l, now, host);
        break;
    default: {
        char t[24];
        flush_pending(l, false);
        fmt_time(now, t);
        fprintf(l->out, "%*s %*s  (%s)\n", TIME_W, t, STATE_W, "", event_name(ev));
        break;
    }
    }
}

void ladder_note(struct ladder *l, uint64_t now, const char *text)
{
    char t[24];

    flush_pending(l, false);
    sync_states(l, now, 0);
    fmt_time(now, t);
    if (l->format == LADDER_JSON) {
        fprintf(l->out, "{\"time\":%s,\"event\":\"note\",\"text\":\"", t);
        for (const char *c = text; *c; c++) {
            if (*c == '"' || *c == '\\')
                fputc('\\', l->out);
            fputc(*c, l->out);
        }
        fprintf(l->out, "\",\"state_left\":\"%s\",\"state_right\":\"%s\"}\n",
                state_of(l, l->left_addr), state_of(l, l->right_addr));
    } else {
        /* Wrapped at word boundaries so every line fits 79 columns. */
        const size_t width = 79 - TIME_W - 5;
        const char *p = text;
        bool first = true;
        while (*p) {
            size_t n = strlen(p), cut = n;
            if (n > width) {
                cut = width;
                while (cut > 0 && p[cut] != ' ')
                    cut--;
                if (cut == 0)
                    cut = width;
            }
            fprintf(l->out, "%*s   %s %.*s\n", TIME_W, first ? t : "", first ? "#" : " ",
                    (int)cut, p);
            p += cut;
            while (*p == ' ')
                p++;
            first = false;
        }
    }
}

void ladder_end(struct ladder *l, uint64_t now)
{
    flush_pending(l, false);
    sync_states(l, now, 0);
}
