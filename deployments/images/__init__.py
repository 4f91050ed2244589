"""The images application: generation and modification on a diffusion pipeline (the
`ImageEngine` deployment, batched with `@serve.batch`), the job queue with live progress,
campaign styles and their consistency scores. Results are stored as assets.

serve_config.yaml: `import_path: deployments.images:build`, route prefix /api/v2/images."""

from deployments.images.app import ImagesConfig, ImagesIngress, build

INGRESS = ImagesIngress
__all__ = ["INGRESS", "ImagesConfig", "build"]
