/* xt_build.c for ip6tables: see policy/xt.h ("one source, two families"). */
#define XT_IPV6
#include "policy/xt_build.c" // NOLINT(bugprone-suspicious-include): the one source, built twice
