/*
 * plugin/export.c: `tiernet export kubernetes`, the policy as NetworkPolicy manifests.
 * Reads only the policy file: no daemon, no root.
 */
#ifndef TIERNET_EXPORT_H
#define TIERNET_EXPORT_H

#include <stdio.h>

/* The command: returns the exit status (0 done, 2 bad option, target or policy). */
int export_main(int argc, char **argv);
/* Prints the command's usage, options and examples to f. */
void export_usage(FILE *f);

#endif
