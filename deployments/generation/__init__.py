"""The generation application: campaign-aware story, content, theme and rewrite endpoints,
on the LLM application's engine (LLMCalls) or a remote OpenAI-compatible provider.

serve_config.yaml: `import_path: deployments.generation:build`, route prefix /api/v2/llm."""

from deployments.generation.app import GenerationConfig, GenerationIngress, build

INGRESS = GenerationIngress
__all__ = ["INGRESS", "GenerationConfig", "build"]
