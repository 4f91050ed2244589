"""Imported by every Ray worker process as it starts (Ray's `preload_python_modules`, set by
`cluster.ray_runtime.start_ray`): installs the patches of `cluster.ingress`."""

from cluster.ingress import install_worker_patches

install_worker_patches()
