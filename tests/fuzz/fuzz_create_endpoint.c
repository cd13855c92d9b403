/* libFuzzer: the CreateEndpoint request body (plugin/proto.c), decode and validate. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct driver_ep_req *req = malloc(sizeof(*req));
	struct driver_ep_reply rep;
	struct err err = { .msg = "" };
	char *json;
	size_t i;

	if (!req)
		return 0;
	if (proto_decode_create_endpoint((const char *)data, size, req, &err) < 0) {
		fuzz_check_err(&err);
		goto out;
	}
	fuzz_check_id(req->net_id);
	fuzz_check_id(req->id);
	FUZZ_ASSERT(req->prefix <= 32);
	FUZZ_ASSERT(req->nopts <= DRIVER_OPTS_MAX);
	for (i = 0; i < req->nopts; i++) {
		FUZZ_ASSERT(fuzz_terminated(req->opts[i].key, DRIVER_OPT_KEYMAX));
		FUZZ_ASSERT(fuzz_terminated(req->opts[i].value, DRIVER_OPT_VALMAX));
		FUZZ_ASSERT(fuzz_printable(req->opts[i].key) && fuzz_printable(req->opts[i].value));
		FUZZ_ASSERT(strncmp(req->opts[i].key, "com.docker.", 11));
	}
	/* The reply the driver would give for this endpoint encodes to JSON. */
	rep.mac_set = !req->has_mac;
	driver_mac_from_ip(req->addr, rep.mac);
	json = proto_encode_create_endpoint(&rep);
	if (json) {
		cJSON *o = cJSON_Parse(json);

		FUZZ_ASSERT(o);
		cJSON_Delete(o);
	}
	free(json);
out:
	free(req);
	return 0;
}
