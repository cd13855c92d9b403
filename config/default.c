/*
 * The embedded default policy: used when the default config path does not exist.  Kept
 * byte for byte equal to DESIGN.md "The policy file".
 */
#include "config/config.h"

const char config_default_text[] =
    "# tiers: a network joins one with -o tier=NAME\n"
    "tier front\n"
    "tier mid\n"
    "tier back internal          # internal: no traffic to or from the world\n"
    "\n"
    "# allow SRC -> DST [PROTO/PORT[-PORT], ...]   (new connections from SRC to DST; replies "
    "follow)\n"
    "allow world -> front        # published ports of front containers\n"
    "allow front -> mid\n"
    "allow mid   -> back\n";
