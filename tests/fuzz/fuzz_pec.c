/* libFuzzer: the ProgramExternalConnectivity request body (plugin/proto.c). */
#include "tests/fuzz/fuzz_ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct driver_pec_req *req = malloc(sizeof(*req));
	struct err err = { .msg = "" };

	if (!req)
		return 0;
	if (proto_decode_pec((const char *)data, size, req, &err) < 0) {
		fuzz_check_err(&err);
		goto out;
	}
	fuzz_check_id(req->net_id);
	fuzz_check_id(req->id);
	fuzz_check_ports(req->ports, req->nports);
out:
	free(req);
	return 0;
}
