/* tcpwave program — subcommands. Each returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage error (message already printed). */
#ifndef TCPWAVE_TOOL_COMMANDS_H
#define TCPWAVE_TOOL_COMMANDS_H

int cmd_demo(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_counters(int argc, char **argv);

#endif
