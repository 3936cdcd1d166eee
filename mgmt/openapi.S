/*
 * openapi.S - mgmt/openapi.json in the kernel image, served as is at
 * GET /api/v1/openapi.json (mgmt/api.c). Assembled from the top of the
 * tree, where .incbin finds the file; the host unit tests link it too.
 */
	.section .rodata.mgmt_openapi, "a"
	.globl mgmt_openapi_json
	.globl mgmt_openapi_json_size
mgmt_openapi_json:
	.incbin "mgmt/openapi.json"
1:
	.byte 0
	.balign 8
mgmt_openapi_json_size:
	.quad 1b - mgmt_openapi_json

	.section .note.GNU-stack, "", @progbits
