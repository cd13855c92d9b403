/*
 * Names and addresses tiernet derives.  Every link it creates starts with "tn" (DESIGN.md):
 * bridges "tnb" + 12 hex of the network ID, host ends of veths "tnv" + 12 hex of the endpoint
 * ID, container ends "tnc" + the same 12 hex until dockerd moves and renames them.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "driver/driver.h"

bool driver_id_valid(const char *id)
{
	size_t i;

	for (i = 0; i < DRIVER_ID_LEN; i++)
		if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
			return false;
	return id[DRIVER_ID_LEN] == '\0';
}

bool driver_ifname_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len < 3 || len >= IFNAMSIZ || strncmp(name, "tn", 2))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

void driver_bridge_name(const char *net_id, char name[IFNAMSIZ])
{
	snprintf(name, IFNAMSIZ, "tnb%.12s", net_id);
}

void driver_veth_names(const char *ep_id, char host[IFNAMSIZ], char peer[IFNAMSIZ])
{
	snprintf(host, IFNAMSIZ, "tnv%.12s", ep_id);
	snprintf(peer, IFNAMSIZ, "tnc%.12s", ep_id);
}

void driver_mac_from_ip(uint32_t addr, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x42;
	memcpy(mac + 2, &addr, 4);	/* network byte order: 10.1.2.3 -> 0a:01:02:03 */
}
