/*
 * openapi.S - mgmt/openapi.json in the kernel image, served as is at
 * GET /api/v1/openapi.json (mgmt/api.c). Assembled from the top of the
 * tree, where .incbin finds the file; the host unit tests link it too.
 */
	.section .rodata.mgmt_openapi, "a"
	.globl mgmt_openapi_json
	.globl mgmt_openapi_json_end
mgmt_openapi_json:
	.incbin "mgmt/openapi.json"
mgmt_openapi_json_end:
	.byte 0

	.section .note.GNU-stack, "", @progbits
