"""The kernel manager of ``livecells serve`` (not ``--public``): jupyter_server's, with python3
kernels forked from a kernel image (:mod:`livecells.provisioners.kernelimage`).

``--public`` forks its sandboxed kernels in a sandbox's template instead
(:class:`livecells.server.sandbox.SandboxImageProvisioner`), each then making its own."""

from __future__ import annotations

from typing import Any

from jupyter_server.services.kernels.kernelmanager import ServerKernelManager
from traitlets import Bool

from livecells.provisioners.kernelimage import reconnect_quickly, use_image

__all__ = ["ImageServerKernelManager"]


class ImageServerKernelManager(ServerKernelManager):
    """``ServerKernelManager`` whose python3 kernels are forked from a kernel image."""

    kernel_image = Bool(
        True,
        config=True,
        help="Fork python3 kernels from a kernel image (also off with LIVECELLS_KERNEL_IMAGE=0).",
    )

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.kernel_image:
            use_image(self, kw)
            reconnect_quickly(self.context)  # the server's, for its WebSockets' channels
        return await super()._async_pre_start_kernel(**kw)
