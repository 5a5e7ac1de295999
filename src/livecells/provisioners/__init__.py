"""jupyter_client kernel provisioners of livecells: the kernel image (:mod:`.kernelimage`),
which starts python3 kernels by forking a process that has imported them already."""
