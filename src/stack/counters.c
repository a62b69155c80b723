/* stack/ — names and explanations of counters and drop reasons.
 *
 * The strings come from the X-macro lists in tcpwave/counters.h, so a
 * counter or reason is declared in one place. A counter's name is its nstat
 * spelling, group and name joined ("TcpExt" "TW" -> "TcpExtTW"), so a
 * tcpwave run can be read side by side with `nstat` on a Linux host.
 */
#include "tcpwave/counters.h"

#include <errno.h>
#include <string.h>

static const char *const counter_names[TCPW_CTR_COUNT] = {
#define COUNTER_NAME(id, group, name, help) [TCPW_CTR_##id] = group name,
    TCPW_COUNTERS(COUNTER_NAME)
#undef COUNTER_NAME
};

static const char *const counter_helps[TCPW_CTR_COUNT] = {
#define COUNTER_HELP(id, group, name, help) [TCPW_CTR_##id] = help,
    TCPW_COUNTERS(COUNTER_HELP)
#undef COUNTER_HELP
};

/* TCPW_DROP_NONE is a valid value (the packet was accepted), so it has a
 * name too: a caller printing the result of an input call never gets NULL. */
static const char *const drop_names[TCPW_DROP_COUNT] = {
    [TCPW_DROP_NONE] = "none",
#define DROP_NAME(id, name, help) [TCPW_DROP_##id] = name,
    TCPW_DROP_REASONS(DROP_NAME)
#undef DROP_NAME
};

static const char *const drop_helps[TCPW_DROP_COUNT] = {
    [TCPW_DROP_NONE] = "not dropped",
#define DROP_HELP(id, name, help) [TCPW_DROP_##id] = help,
    TCPW_DROP_REASONS(DROP_HELP)
#undef DROP_HELP
};

/* Enums may be signed or unsigned; compare as unsigned so a negative value
 * cast in by a caller is out of range too. */
const char *tcpw_counter_name(enum tcpw_counter c)
{
    return (unsigned)c < TCPW_CTR_COUNT ? counter_names[c] : NULL;
}

const char *tcpw_counter_help(enum tcpw_counter c)
{
    return (unsigned)c < TCPW_CTR_COUNT ? counter_helps[c] : NULL;
}

/* A linear scan: about forty names, used by tools and tests, never on the
 * packet path. */
int tcpw_counter_lookup(const char *nstat_name)
{
    if (!nstat_name)
        return -ENOENT;
    for (unsigned i = 0; i < TCPW_CTR_COUNT; i++)
        if (strcmp(counter_names[i], nstat_name) == 0)
            return (int)i;
    return -ENOENT;
}

const char *tcpw_drop_reason_name(enum tcpw_drop_reason r)
{
    return (unsigned)r < TCPW_DROP_COUNT ? drop_names[r] : NULL;
}

const char *tcpw_drop_reason_help(enum tcpw_drop_reason r)
{
    return (unsigned)r < TCPW_DROP_COUNT ? drop_helps[r] : NULL;
}
