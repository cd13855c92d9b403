/*
 * libFuzzer: the bodies that carry only IDs (DeleteNetwork, DeleteEndpoint, Leave,
 * EndpointOperInfo, RevokeExternalConnectivity), decoded both ways proto_decode_ids is called.
 */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char net[DRIVER_ID_LEN + 1], ep[DRIVER_ID_LEN + 1];
	struct err err = { .msg = "" };

	memset(net, 'X', sizeof(net));
	if (proto_decode_ids((const char *)data, size, net, NULL, &err) < 0)
		fuzz_check_err(&err);
	else
		fuzz_check_id(net);
	memset(net, 'X', sizeof(net));
	memset(ep, 'X', sizeof(ep));
	if (proto_decode_ids((const char *)data, size, net, ep, &err) < 0) {
		fuzz_check_err(&err);
	} else {
		fuzz_check_id(net);
		fuzz_check_id(ep);
	}
	return 0;
}
