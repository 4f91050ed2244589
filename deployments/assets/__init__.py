"""The assets application (the storage service): assets and their versions over a
content-addressed blob store, downloads with ranges and ETags, variants, signed URLs,
usage, uploads, and procedural battle maps.

serve_config.yaml: `import_path: deployments.assets:build`, route prefix /api/v2/assets.
"""

from deployments.assets.app import AssetsConfig, AssetsIngress, build

INGRESS = AssetsIngress
__all__ = ["INGRESS", "AssetsConfig", "build"]
