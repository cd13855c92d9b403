/* libFuzzer: the Join request body (plugin/proto.c), decode and validate. */
#include "tests/fuzz/fuzz_ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct driver_join_req *req = malloc(sizeof(*req));
	struct driver_join_reply rep;
	struct err err = { .msg = "" };
	char *json;

	if (!req)
		return 0;
	if (proto_decode_join((const char *)data, size, req, &err) < 0) {
		fuzz_check_err(&err);
		goto out;
	}
	fuzz_check_id(req->net_id);
	fuzz_check_id(req->id);
	FUZZ_ASSERT(fuzz_terminated(req->sandbox, sizeof(req->sandbox)));
	FUZZ_ASSERT(fuzz_printable(req->sandbox));
	fuzz_check_ports(req->ports, req->nports);
	/* The reply the driver would give encodes to JSON. */
	memset(&rep, 0, sizeof(rep));
	{
		char host[IFNAMSIZ];

		driver_veth_names(req->id, host, rep.src_name);
	}
	rep.gateway = req->nports ? req->ports[0].host_ip : 0;
	rep.disable_gateway_service = req->nports & 1;
	json = proto_encode_join(&rep);
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
