/*
 * Shared by the libFuzzer harnesses (tests/fuzz/README in the main README, "Fuzzing").  Each
 * harness feeds one input tiernet parses to the product code built with ASan and UBSan, then
 * checks what the code promises about its output; a broken promise aborts, so libFuzzer
 * records the input as a crash just like a memory error.
 */
#ifndef TIERNET_FUZZ_H
#define TIERNET_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "plugin/plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken promise: print it and abort, so libFuzzer keeps the input as a crash. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* s is NUL-terminated within max bytes. */
static inline int fuzz_terminated(const char *s, size_t max)
{
	return memchr(s, '\0', max) != NULL;
}

/* No control characters: a message reaches the log and the user's terminal. */
static inline int fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/*
 * An error from a decoder: a sentence that starts with "tiernet: ", fits its buffer, holds no
 * control character, and encodes to JSON that parses back to the same text.
 */
static inline void fuzz_check_err(const struct err *err)
{
	char *json;
	cJSON *o;

	FUZZ_ASSERT(fuzz_terminated(err->msg, sizeof(err->msg)));
	FUZZ_ASSERT(!strncmp(err->msg, "tiernet: ", 9));
	FUZZ_ASSERT(fuzz_printable(err->msg));
	json = proto_encode_err(err->msg);
	if (!json)
		return;
	o = cJSON_Parse(json);
	FUZZ_ASSERT(o && cJSON_IsString(cJSON_GetObjectItem(o, "Err")));
	FUZZ_ASSERT(!strcmp(cJSON_GetObjectItem(o, "Err")->valuestring, err->msg));
	cJSON_Delete(o);
	free(json);
}

/* A decoded ID: exactly 64 lowercase hex characters. */
static inline void fuzz_check_id(const char *id)
{
	FUZZ_ASSERT(fuzz_terminated(id, DRIVER_ID_LEN + 1));
	FUZZ_ASSERT(driver_id_valid(id));
}

#endif
