/*
 * Names and addresses tiernet derives (lib/names.h states the prefixes): bridges from the
 * network ID, veth ends from the endpoint ID, MACs from IPv4 addresses.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "driver/driver.h"
#include "lib/names.h"

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

	if (len < 3 || len >= IFNAMSIZ || strncmp(name, TN_IF_PREFIX, strlen(TN_IF_PREFIX)))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

void driver_bridge_name(const char *net_id, char name[IFNAMSIZ])
{
	snprintf(name, IFNAMSIZ, TN_BRIDGE_PREFIX "%.*s", TN_ID_HEX, net_id);
}

void driver_veth_names(const char *ep_id, char host[IFNAMSIZ], char peer[IFNAMSIZ])
{
	snprintf(host, IFNAMSIZ, TN_HOST_PREFIX "%.*s", TN_ID_HEX, ep_id);
	snprintf(peer, IFNAMSIZ, TN_PEER_PREFIX "%.*s", TN_ID_HEX, ep_id);
}

bool driver_name_derived(const char *name, const char *prefix)
{
	size_t i, len = strlen(prefix);

	if (strncmp(name, prefix, len) || strlen(name) != len + TN_ID_HEX)
		return false;
	for (i = len; i < len + TN_ID_HEX; i++)
		if (!isxdigit((unsigned char)name[i]) || isupper((unsigned char)name[i]))
			return false;
	return true;
}

bool driver_name_ours(const char *name)
{
	return !strncmp(name, TN_IF_PREFIX, strlen(TN_IF_PREFIX));
}

void driver_mac_from_ip(uint32_t addr, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x42;
	memcpy(mac + 2, &addr, 4); /* network byte order: 10.1.2.3 -> 0a:01:02:03 */
}
