/* tcpwave — the command-line program. Subcommands are thin over libtcpwave.
 *
 *   tcpwave [demo] [options]   a connection's exchange on the simulated network
 *   tcpwave config [options]   the tunables (Linux sysctl names) and values
 *   tcpwave counters           the counters (nstat names) and drop reasons
 *   tcpwave serve [options]    a tcpwave server on a TUN device (real network)
 *   tcpwave connect [options]  a tcpwave client on a TUN device (real network)
 *   tcpwave ss / stat          connections / counters of a running serve or connect
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: tcpwave <command> [options]\n"
          "\n"
          "commands:\n"
          "  demo       run a scenario on the built-in simulated network and print its\n"
          "             ladder diagram (the default command; see `tcpwave demo --help`)\n"
          "  config     list the tunables with their values and ranges\n"
          "             (`--set name=value`, `--markdown`)\n"
          "  counters   list the counters and drop reasons with what they count\n"
          "  serve      a tcpwave server on a TUN device, for kernel clients (curl)\n"
          "             (root; see `tcpwave serve --help` and docs/real-network.md)\n"
          "  connect    a tcpwave client on a TUN device, to a kernel server\n"
          "  ss         connections and TIME_WAIT records of a running serve/connect\n"
          "             (like `ss -tan -o`; --control PATH or --tun NAME; --ports:\n"
          "             the ephemeral ports each destination holds and has left)\n"
          "  stat       counters of a running serve/connect (like `nstat`; -a: all)\n"
          "  help       this text\n",
          f);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "demo";

    if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "-h") != 0 &&
        strcmp(argv[1], "--help") != 0)
        return cmd_demo(argc, argv); /* `tcpwave --scenario x` means the demo */
    if (argc <= 1)
        return cmd_demo(1, argv);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "config") == 0)
        return cmd_config(argc - 1, argv + 1);
    if (strcmp(cmd, "counters") == 0)
        return cmd_counters(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "connect") == 0)
        return cmd_connect(argc - 1, argv + 1);
    if (strcmp(cmd, "ss") == 0)
        return cmd_ss(argc - 1, argv + 1);
    if (strcmp(cmd, "stat") == 0)
        return cmd_stat(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "tcpwave: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
