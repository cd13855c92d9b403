/* libFuzzer: the CreateNetwork request body (plugin/proto.c), decode and validate. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct driver_net_req *req = malloc(sizeof(*req));
	struct err err = { .msg = "" };
	size_t i;

	if (!req)
		return 0;
	if (proto_decode_create_network((const char *)data, size, req, &err) < 0) {
		fuzz_check_err(&err);
		goto out;
	}
	fuzz_check_id(req->id);
	FUZZ_ASSERT(req->nopts <= DRIVER_OPTS_MAX);
	for (i = 0; i < req->nopts; i++) {
		FUZZ_ASSERT(fuzz_terminated(req->opts[i].key, DRIVER_OPT_KEYMAX));
		FUZZ_ASSERT(fuzz_terminated(req->opts[i].value, DRIVER_OPT_VALMAX));
		FUZZ_ASSERT(fuzz_printable(req->opts[i].key) && fuzz_printable(req->opts[i].value));
	}
	FUZZ_ASSERT(req->gw_prefix <= 32 && req->pool_prefix <= 32);
	FUZZ_ASSERT(req->nipv4 || (!req->gw && !req->pool));
out:
	free(req);
	return 0;
}
