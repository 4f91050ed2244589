"""Images: generation and modification requests, the job queue, style presets, the style
fingerprint and consistency score, moderation and output validation. The diffusion engine
runs in deployments/images; results are stored as assets (domain/assets)."""
