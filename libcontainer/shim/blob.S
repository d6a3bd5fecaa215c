/* The exec shim's binary, linked into nook (libcontainer/exec_shim.c). */
	.section .rodata
	.global nook_exec_shim_start
	.global nook_exec_shim_end
	.balign 16
nook_exec_shim_start:
	.incbin "exec-shim"
nook_exec_shim_end:
	.section .note.GNU-stack,"",%progbits
